"""Europass: each award as a European Digital Credential (ELM 3), sealed with JAdES.

The same achievement the Open Badge states, in the European Learning Model: the learner
(Person) holds a LearningAchievement, awarded by the provider (AwardingProcess), specified by
a Qualification carrying the Council Recommendation's elements (EQF level, ECTS, outcomes with
ESCO skills, form of participation, quality assurance, …) and proven by a LearningAssessment.

With an e-seal certificate imported for the provider, the export is the credential sealed in
JAdES (what Europass verifies). Without one, it is the EDC Issuer's uploadable form
``{"credential", "deliveryDetails"}``: the provider uploads it and the European Commission's
issuer seals it (and adds ``issued`` and the issuer's eIDAS identifier then).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlmodel import Session

from badges.europass import render as edc_render
from badges.issuing import Urls, get_credential
from badges.models import IssuedCredential, Issuer
from badges.proofs import jades, revocation, timestamps
from badges.verifying.edc import ESCO_SKILL_PREFIX
from catalogue import vocabularies
from catalogue.base import pk
from catalogue.errors import Conflict, DomainError, InvalidInput, NotFound
from catalogue.micro_credentials import outcomes as load_outcomes
from catalogue.models import Course, MicroCredential, Organisation
from catalogue.schemas import LearningOutcomeOut
from keys import eseal
from keys.eseal_models import SealCertificate
from keys.sealing import MasterKey
from openbadges_schemas import elm

ESCO_SKILLS_SCHEME = "http://data.europa.eu/esco/concept-scheme/skills"
SNB = vocabularies.SNB
AUTHORITY = vocabularies.AUTHORITY
# Concepts outside the catalogue's vocabularies, with the IRIs the official samples use.
GENERIC_PROFILE = elm.concept(
    f"{SNB}/credential/e34929035b", f"{SNB}/credential/25831c2", "Generic"
)
BASE64 = elm.concept(f"{SNB}/encoding/6146cde7dd", f"{SNB}/encoding/25831c2", "base64")
PNG = elm.concept(f"{AUTHORITY}/file-type/PNG", f"{AUTHORITY}/file-type", "PNG")
# The specification's type, as in the Commission's micro-credential sample (Annex I).
SHORT_LEARNING_PROGRAMME = elm.concept(
    f"{SNB}/learning-opportunity/74a4a268e8",
    f"{SNB}/learning-opportunity/25831c2",
    "Short learning programme",
)
SEALED_MEDIA_TYPE = "application/jose+json"
UPLOADABLE_MEDIA_TYPE = "application/json"

ORG = "urn:epass:org:1"
QA_BODY = "urn:epass:org:2"
AWARDING = "urn:epass:awardingProcess:1"


class EuropassIncomplete(InvalidInput):
    """The micro-credential lacks an element Europass requires; nothing was exported."""

    code = "europass_incomplete"


class TimestampUnavailable(DomainError):
    """The configured time-stamping authority gave no token: nothing was sealed."""

    code = "timestamp_unavailable"


@dataclass(frozen=True)
class Award:
    """What the EDC needs of one issued award (the IssuedCredential row, or a test's)."""

    credential_uuid: str
    recipient_name: str
    awarded_at: datetime
    valid_from: datetime
    valid_until: datetime | None = None
    grade: str | None = None
    wallet_address: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    # The learner's e-mail as the credential's contactPoint: only with their consent.
    contact_email: str | None = None

    @classmethod
    def of(cls, record: IssuedCredential) -> Award:
        return cls(
            credential_uuid=record.uuid,
            recipient_name=record.recipient_name,
            awarded_at=record.valid_from,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            grade=record.grade,
            wallet_address=record.recipient_email,
            given_name=record.recipient_given_name,
            family_name=record.recipient_family_name,
            contact_email=record.recipient_email if record.recipient_contact_consent else None,
        )


@dataclass(frozen=True)
class Source:
    """Everything the mapping reads: catalogue rows and the award."""

    mc: MicroCredential
    course: Course
    org: Organisation
    outcomes: list[LearningOutcomeOut]
    award: Award
    stackable_towards: MicroCredential | None = None


@dataclass(frozen=True)
class SealIdentity:
    """The sealing body as its e-seal certificate names it (the EDC issuer's eIDASIdentifier)."""

    notation: str
    country: str
    legal_name: str | None = None  # the certificate's O
    alt_label: str | None = None  # the certificate's CN

    @classmethod
    def of(cls, record: SealCertificate, leaf: x509.Certificate) -> SealIdentity:
        """As the EDC Issuer does: legalName and altLabel from the certificate's O and CN."""

        def first(oid: x509.ObjectIdentifier) -> str | None:
            found = leaf.subject.get_attributes_for_oid(oid)
            return str(found[0].value) if found and found[0].value else None

        return cls(
            record.organisation_identifier,
            record.country,
            legal_name=first(NameOID.ORGANIZATION_NAME),
            alt_label=first(NameOID.COMMON_NAME),
        )


@dataclass
class EuropassExport:
    document: dict[str, Any]
    sealed: bool
    filename: str
    media_type: str
    self_signed: bool = False
    notes: list[str] = field(default_factory=list)
    level: str | None = None  # the JAdES level when sealed: B-B, B-T or B-LT

    def text(self) -> str:
        return json.dumps(self.document, ensure_ascii=False, indent=None if self.sealed else 2)


# --- mapping -------------------------------------------------------------------------------


def check_exportable(source: Source) -> None:
    """Europass requires the workload in ECTS and an EQF level: refuse before building."""
    mc = source.mc
    missing = []
    if mc.ects is None:
        missing.append("ECTS credits (the notional workload in ECTS)")
    if mc.eqf_level is None:
        missing.append("an EQF level")
    if not source.outcomes:
        missing.append("learning outcomes")
    if missing:
        raise EuropassIncomplete(
            f"micro-credential {mc.slug!r} has no {' and no '.join(missing)}; Europass requires "
            "them, so nothing was exported",
            details={"micro_credential": mc.slug, "missing": missing},
        )


def build_credential(
    source: Source,
    *,
    seal_identity: SealIdentity | None = None,
    issued: datetime | None = None,
    base_url: str | None = None,
) -> elm.EuropeanDigitalCredential:
    """The EDC of one award. `issued` and `seal_identity` are set when we seal it ourselves.
    Each node has its builder below; the ids (urn:epass:…) are fixed, so output is stable."""
    check_exportable(source)
    award = source.award
    # The catalogue texts exist in one language (the first offered): declaring others would
    # promise a page in a language whose content is not written in it.
    languages = list(dict.fromkeys(source.mc.languages))[:1] or ["en"]
    lang = languages[0]
    organisation = _issuer(source, lang, seal_identity)
    # The same node as the issuer; the eIDAS identifier is stated once, on the issuer.
    awarding_body = organisation.model_copy(update={"eIDASIdentifier": None})
    awarding = elm.AwardingProcess(
        id=AWARDING, awardingBody=awarding_body, awardingDate=_second(award.awarded_at)
    )
    credits = _credit_points(source.mc)
    credential_id = f"urn:credential:{award.credential_uuid}"
    issued = _second(issued) if issued else None
    return elm.EuropeanDigitalCredential(
        id=credential_id,
        credentialProfiles=GENERIC_PROFILE,
        identifier=_identifier(award, base_url),
        issuer=organisation,
        issued=issued,
        issuanceDate=issued,
        validFrom=_second(award.valid_from),
        validUntil=_second(award.valid_until) if award.valid_until else None,
        credentialSubject=_person(source, lang, _achievement(source, languages, awarding, credits)),
        displayParameter=_display(source, credential_id, languages),
    )


def _person(source: Source, lang: str, claim: elm.LearningAchievement) -> elm.Person:
    """The learner, as the official samples name them: givenName and familyName when the
    provider gave them apart (never split from the full name), and always fullName."""
    award = source.award
    return elm.Person(
        id="urn:epass:person:1",
        contactPoint=_contact_point(award.contact_email) if award.contact_email else None,
        givenName={lang: award.given_name} if award.given_name else None,
        familyName={lang: award.family_name} if award.family_name else None,
        fullName={lang: award.recipient_name},
        hasClaim=claim,
    )


def _contact_point(email: str) -> elm.ContactPoint:
    """As the official sample's learner: a ContactPoint with one Mailbox, its id the mailto IRI
    (RFC 6068: the address percent-encoded where a mailto URI needs it)."""
    address = quote(email, safe="@!$'*+-.=^_`{|}~")
    return elm.ContactPoint(
        id="urn:epass:contactPoint:1", emailAddress=elm.Mailbox(id=f"mailto:{address}")
    )


def _issuer(source: Source, lang: str, seal_identity: SealIdentity | None) -> elm.Organisation:
    mc, org = source.mc, source.org
    sealed_name = seal_identity.legal_name if seal_identity else None
    alt_label = seal_identity.alt_label if seal_identity else None
    return elm.Organisation(
        id=ORG,
        legalName={lang: sealed_name or org.legal_name},
        altLabel={lang: alt_label} if alt_label else None,
        location=elm.Location(
            id="urn:epass:location:1",
            address=elm.Address(
                id="urn:epass:address:1", countryCode=_concept("country", mc.country)
            ),
            geographicName={lang: mc.region} if mc.region else None,
        ),
        registration=(
            elm.LegalIdentifier(
                id="urn:epass:legalIdentifier:1",
                notation=org.registration_id,
                spatial=_concept("country", org.country),
            )
            if org.registration_id
            else None
        ),
        eIDASIdentifier=(
            elm.LegalIdentifier(
                id="urn:epass:legalIdentifier:2",
                notation=seal_identity.notation,
                spatial=_concept("country", seal_identity.country),
            )
            if seal_identity
            else None
        ),
        homepage=(
            elm.WebResource(id="urn:epass:webResource:1", contentURL=org.homepage)
            if org.homepage
            else None
        ),
    )


def _credit_points(mc: MicroCredential) -> elm.CreditPoint:
    return elm.CreditPoint(
        id="urn:epass:creditPoint:1",
        framework=_concept("credit-system", "ects"),
        point=f"{mc.ects:g}",
    )


def _identifier(award: Award, base_url: str | None) -> elm.Identifier:
    return elm.Identifier(
        id="urn:epass:identifier:1",
        notation=award.credential_uuid,
        schemeName=(
            f"Open Badge {Urls(base_url).credential(award.credential_uuid)}"
            if base_url
            else "Open Badge credential id"
        ),
    )


def _achievement(
    source: Source, languages: list[str], awarding: elm.AwardingProcess, credits: elm.CreditPoint
) -> elm.LearningAchievement:
    """The claim: what was achieved, specified by the qualification, proven by the assessment."""
    mc, lang = source.mc, languages[0]
    return elm.LearningAchievement(
        id="urn:epass:learningAchievement:1",
        title={lang: mc.title},
        description={lang: mc.description} if mc.description else None,
        awardedBy=awarding,
        influencedBy=_activity(source, lang),
        specifiedBy=_specification(source, languages, credits),
        provenBy=_assessment(source, lang, awarding),
        creditReceived=credits,
    )


def _activity(source: Source, lang: str) -> dict[str, Any]:
    """The course the learner followed (a LearningActivity, as in the official samples), with
    the run's dates: the last start date on or before the award, to the award."""
    course, awarded = source.course, _second(source.award.awarded_at)
    starts = [s for s in (_start(text) for text in course.start_dates) if s and s <= awarded]
    period: dict[str, Any] = {"id": "urn:epass:period:1", "type": "PeriodOfTime"}
    if starts:
        period["startDate"] = max(starts).isoformat().replace("+00:00", "Z")
    period["endDate"] = awarded.isoformat().replace("+00:00", "Z")
    return {
        "id": "urn:epass:activity:1",
        "type": "LearningActivity",
        "title": {lang: course.title},
        "awardedBy": {"id": AWARDING},
        "directedBy": {"id": ORG},
        "temporal": period,
    }


def _start(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _part_of(source: Source, lang: str) -> dict[str, Any] | None:
    """Stackability: this specification is part of the larger micro-credential's."""
    stack = source.stackable_towards
    if stack is None:
        return None
    return {
        "id": "urn:epass:qualification:2",
        "type": "Qualification",
        "title": {lang: stack.title},
    }


def _notes(source: Source) -> list[str]:
    mc = source.mc
    notes = (mc.further_information, mc.criteria_narrative)
    return [note for note in notes if note]


def _specification(
    source: Source, languages: list[str], credits: elm.CreditPoint
) -> elm.LearningAchievementSpecification:
    mc, lang, setting = source.mc, languages[0], source.course.learning_setting

    def text(value: str) -> dict[str, str]:
        return {lang: value}

    return elm.LearningAchievementSpecification(
        id="urn:epass:qualification:1",
        type="Qualification",
        title=text(mc.title),
        description=text(mc.description) if mc.description else None,
        eqfLevel=_concept("eqf", mc.eqf_level),
        thematicArea=_concept("isced-f", mc.isced_f) if mc.isced_f else None,
        creditPoint=credits,
        volumeOfLearning=_duration(mc.workload_hours) if mc.workload_hours else None,
        maximumDuration=mc.maximum_duration,
        language=_one_or_many([_concept("language", code) for code in languages]),
        mode=_concept("mode", mc.mode),
        learningSetting=_concept("learning-setting", setting) if setting else None,
        learningOutcome=_one_or_many(
            [_outcome(index, outcome, lang) for index, outcome in enumerate(source.outcomes, 1)]
        ),
        entryRequirement=(
            elm.Note(id="urn:epass:note:1", noteLiteral=text(mc.prerequisites))
            if mc.prerequisites
            else None
        ),
        accreditation=elm.Accreditation(
            id="urn:epass:accreditation:1",
            title=text(vocabularies.concept("quality-assurance", mc.quality_assurance).label),
            dcType=_concept("quality-assurance", mc.quality_assurance),
            accreditingAgent=_accrediting_agent(mc, lang),
        ),
        isPartialQualification=False,
        dcType=SHORT_LEARNING_PROGRAMME,
        isPartOf=_part_of(source, lang),
        additionalNote=_one_or_many(
            [
                elm.Note(id=f"urn:epass:note:{index}", noteLiteral=text(note))
                for index, note in enumerate(_notes(source), 10)
            ]
        ),
        homepage=(
            elm.WebResource(id="urn:epass:webResource:2", contentURL=source.course.url)
            if source.course.url
            else None
        ),
    )


def _accrediting_agent(mc: MicroCredential, lang: str) -> elm.Organisation | elm.Ref:
    """The quality-assurance body the catalogue names, as an Organisation the way the
    Commission's micro-credential skeleton has it (legalName, location with its country,
    homepage; its URI as an identifier). None named: the provider answers for it itself."""
    if not mc.quality_assurance_body_name:
        return elm.Ref(id=ORG)
    country = mc.quality_assurance_body_country or mc.country
    return elm.Organisation(
        id=QA_BODY,
        legalName={lang: mc.quality_assurance_body_name},
        location=elm.Location(
            id="urn:epass:location:2",
            address=elm.Address(id="urn:epass:address:2", countryCode=_concept("country", country)),
        ),
        identifier=(
            elm.Identifier(
                id="urn:epass:identifier:2",
                notation=mc.quality_assurance_body_uri,
                schemeName="URI",
            )
            if mc.quality_assurance_body_uri
            else None
        ),
        homepage=(
            elm.WebResource(
                id="urn:epass:webResource:3", contentURL=mc.quality_assurance_body_homepage
            )
            if mc.quality_assurance_body_homepage
            else None
        ),
    )


def _assessment(source: Source, lang: str, awarding: elm.AwardingProcess) -> elm.LearningAssessment:
    mc = source.mc
    assessment_type = vocabularies.concept("assessment", mc.assessment_type)
    grading = (
        elm.GradingScheme(
            id="urn:epass:gradingScheme:1",
            title={lang: "Grading scheme"},
            description={lang: mc.grade_scheme},
        )
        if mc.grade_scheme
        else None
    )
    return elm.LearningAssessment(
        id="urn:epass:learningAssessment:1",
        title={lang: f"{mc.title}: {assessment_type.label}"},
        awardedBy=awarding,
        grade=elm.Note(id="urn:epass:note:2", noteLiteral={lang: source.award.grade or "Pass"}),
        idVerification=_concept("supervision", mc.supervision) if mc.supervision else None,
        specifiedBy=elm.LearningAssessmentSpecification(
            id="urn:epass:learningAssessmentSpec:1",
            title={lang: assessment_type.label},
            gradingScheme=grading,
            dcType=_concept("assessment", mc.assessment_type),
            mode=_concept("mode", mc.mode),
        ),
    )


def _display(source: Source, credential_id: str, languages: list[str]) -> elm.DisplayParameter:
    """One rendered page per language offered."""
    mc, award = source.mc, source.award
    page = edc_render.CredentialPage(
        title=mc.title,
        learner=award.recipient_name,
        issuer=source.org.legal_name,
        awarded_on=f"{award.awarded_at:%Y-%m-%d}",
        credential_id=credential_id,
        eqf_level=mc.eqf_level,
        ects=mc.ects,
        workload_hours=mc.workload_hours,
        mode=vocabularies.concept("mode", mc.mode).label,
        assessment=vocabularies.concept("assessment", mc.assessment_type).label,
        grade=award.grade,
        valid_until=f"{award.valid_until:%Y-%m-%d}" if award.valid_until else None,
        outcomes=[o.text for o in source.outcomes],
    )
    displays = []
    for index, code in enumerate(languages, 1):
        image = elm.MediaObject(
            id=f"urn:epass:mediaObject:{index}",
            content=base64.b64encode(edc_render.render_page(page, code)).decode("ascii"),
            contentEncoding=BASE64,
            contentType=PNG,
        )
        displays.append(
            elm.IndividualDisplay(
                id=f"urn:epass:individualDisplay:{index}",
                language=_concept("language", code),
                displayDetail=elm.DisplayDetail(
                    id=f"urn:epass:displayDetail:{index}", page=1, image=image
                ),
            )
        )
    primary = languages[0]
    labels = edc_render.labels_for(primary)
    return elm.DisplayParameter(
        id="urn:epass:displayParameter:1",
        title={primary: f"{labels['kind']}: {mc.title}"},
        description={primary: labels["completed"]},
        language=_one_or_many([_concept("language", code) for code in languages]),
        primaryLanguage=_concept("language", primary),
        individualDisplay=_one_or_many(displays),
    )


def _outcome(index: int, outcome: LearningOutcomeOut, lang: str) -> elm.LearningOutcome:
    esco = [
        elm.concept(skill.iri, ESCO_SKILLS_SCHEME, skill.label)
        for skill in outcome.skills
        if skill.iri.startswith(ESCO_SKILL_PREFIX)
    ]
    return elm.LearningOutcome(
        id=f"urn:epass:learningOutcome:{index}",
        title={lang: outcome.text},
        relatedESCOSkill=_one_or_many(esco),
    )


def _concept(scheme: str, code: str | int) -> elm.Concept:
    found = vocabularies.concept(scheme, code)
    return elm.concept(found.iri, found.scheme_iri, found.label)


def _one_or_many(items: list[Any]) -> Any:
    """None, the single item, or the list: the official samples' style."""
    if not items:
        return None
    return items[0] if len(items) == 1 else items


def _duration(hours: float) -> str:
    """xsd:duration allows a fraction only in seconds: 12.5 hours is PT12H30M."""
    minutes = round(hours * 60)
    whole, rest = divmod(minutes, 60)
    return f"PT{whole}H{rest}M" if rest else f"PT{whole}H"


def _second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def uploadable_form(
    credential: elm.EuropeanDigitalCredential, wallet_address: str | None
) -> dict[str, Any]:
    """The EDC Issuer's upload format: the unsealed credential and where to deliver it."""
    delivery = {"walletAddress": wallet_address} if wallet_address else {}
    return {"credential": credential.dump(), "deliveryDetails": delivery}


# --- the service ---------------------------------------------------------------------------


def load_source(session: Session, record: IssuedCredential) -> Source:
    if record.micro_credential_id is None:
        raise InvalidInput(
            f"credential {record.uuid} was signed through the VC-API and awards none of the "
            "catalogue's micro-credentials: only those export to Europass"
        )
    mc = session.get(MicroCredential, record.micro_credential_id)
    course = session.get(Course, mc.course_id) if mc else None
    org = session.get(Organisation, course.organisation_id) if course else None
    if mc is None or course is None or org is None:
        raise NotFound(f"the micro-credential of credential {record.uuid} no longer exists")
    stack = (
        session.get(MicroCredential, mc.stackable_towards_id) if mc.stackable_towards_id else None
    )
    return Source(
        mc=mc,
        course=course,
        org=org,
        outcomes=load_outcomes(session, pk(mc)),
        award=Award.of(record),
        stackable_towards=stack,
    )


def _qa_notes(source: Source) -> list[str]:
    if source.mc.quality_assurance_body_name:
        return []
    return [
        f"No quality-assurance body is named for {source.mc.title!r}: the credential names the "
        "provider itself as the accrediting agent. Name the body in the catalogue editor."
    ]


def export_europass(
    session: Session,
    master_key: MasterKey,
    credential_uuid: str,
    *,
    organisation_id: int | None = None,
    base_url: str | None = None,
    now: datetime | None = None,
    tsa_url: str | None = None,
    tsa_timeout: float = 10.0,
    revocation_fetch: revocation.Fetch | None = None,
    trust_anchors: Sequence[x509.Certificate] = (),
) -> EuropassExport:
    """The award's EDC: sealed when the provider has an e-seal certificate, else uploadable.

    `organisation_id` restricts the export to the awarding provider (None: an operator).
    Revoked or suspended awards, and micro-credentials lacking a Europass element, are
    refused; an expired certificate is refused rather than producing a seal nobody accepts.
    With `tsa_url` the seal is JAdES-B-T (signature timestamp), without it B-B; with
    `revocation_fetch` too, B-LT when the chain's CRLs can be had (else B-T, and a note says
    why). A certificate of the chain on its CRL is refused.
    """
    record = get_credential(session, credential_uuid)
    issuer = session.get(Issuer, record.issuer_id)
    if organisation_id is not None and (
        issuer is None or issuer.organisation_id != organisation_id
    ):
        # As for an unknown id: another organisation's credential is not revealed to exist.
        raise NotFound(f"credential {credential_uuid!r} does not exist")
    if record.revoked_at is not None:
        raise Conflict(f"credential {credential_uuid} is revoked; it cannot go to Europass")
    if record.suspended:
        raise Conflict(f"credential {credential_uuid} is suspended; it cannot go to Europass")
    source = load_source(session, record)
    check_exportable(source)
    now = now or datetime.now(UTC)
    opened = eseal.open_seal(session, master_key, pk(source.org), now=now)
    stem = f"europass-{source.mc.slug}-{credential_uuid[:8]}"
    if opened is None:
        credential = build_credential(source, base_url=base_url)
        return EuropassExport(
            document=uploadable_form(credential, source.award.wallet_address),
            sealed=False,
            filename=f"{stem}-unsigned.json",
            media_type=UPLOADABLE_MEDIA_TYPE,
            notes=[
                "No e-seal certificate is configured: upload this file to the European "
                "Commission's EDC Issuer, which seals it.",
                *_qa_notes(source),
            ],
        )
    identity = SealIdentity.of(opened.record, opened.chain[0])
    credential = build_credential(source, seal_identity=identity, issued=now, base_url=base_url)
    payload = json.dumps(credential.dump(), ensure_ascii=False, separators=(",", ":"))
    stamp = timestamps.timestamper(tsa_url, timeout=tsa_timeout) if tsa_url else None
    notes = _qa_notes(source)
    validation, level = None, "B-T" if stamp else "B-B"
    if stamp is not None and revocation_fetch is not None:
        try:
            validation = revocation.collect(
                opened.chain, revocation_fetch, anchors=trust_anchors, now=now
            )
            level = "B-LT"
        except revocation.Unavailable as exc:
            notes.append(f"Sealed at JAdES-B-T, not B-LT: {exc}.")
        except revocation.CertificateRevoked as exc:
            raise eseal.SealCertificateError(
                f"the seal certificate chain is revoked: {exc}"
            ) from None
    try:
        document = jades.seal(
            payload.encode("utf-8"),
            opened.signer,
            signing_time=now,
            timestamper=stamp,
            validation_data=validation,
        )
    except jades.SealError as exc:
        raise eseal.SealCertificateError(str(exc)) from None
    except timestamps.TimestampError as exc:
        raise TimestampUnavailable(f"the seal could not be time-stamped: {exc}") from None
    if opened.record.self_signed:
        notes.append(
            "Sealed with a self-signed TEST certificate: the seal verifies, but Europass's SEAL "
            "check accepts only a qualified e-seal certificate from an EU trust service provider."
        )
    return EuropassExport(
        document=document,
        sealed=True,
        filename=f"{stem}.jsonld",
        media_type=SEALED_MEDIA_TYPE,
        self_signed=opened.record.self_signed,
        notes=notes,
        level=level,
    )


# --- whether Europass would accept it ------------------------------------------------------


def europass_refusal(
    session: Session,
    record: IssuedCredential,
    *,
    trust_anchors: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> str | None:
    """Why Europass would not accept this award's export, in the learner's words; None when it
    would: the award is valid, its micro-credential has what Europass requires, and the
    provider has an active, unexpired, non-test e-seal certificate (Europass's SEAL check
    accepts qualified e-seals only; an unsealed upload must first be sealed by the provider).
    With `trust_anchors` (SKILLSHUB_SEAL_TRUST_ANCHORS, e.g. the EU trusted list's CAs) the
    certificate must also chain to one of them; without, a non-test certificate is taken as
    the provider's qualified one."""
    if record.revoked_at is not None:
        return "This badge was revoked, so Europass would refuse it."
    if record.suspended:
        return "This badge is suspended for now, so Europass would refuse it."
    try:
        source = load_source(session, record)
        check_exportable(source)
    except EuropassIncomplete as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        missing = " and ".join(details.get("missing", [])) or "required details"
        return f"Europass needs {missing}, which the provider has not given for this badge yet."
    except DomainError:
        return (
            "This badge does not award one of the catalogue's micro-credentials, and only "
            "those can go to Europass."
        )
    certificate = eseal.active_certificate(session, pk(source.org))
    org_name = source.org.legal_name
    if certificate is None:
        return (
            f"Not available yet: Europass accepts only credentials sealed with a qualified "
            f"electronic seal, and {org_name} has not set one up. Ask them to, or share the "
            "badge another way meanwhile."
        )
    if certificate.self_signed:
        return (
            f"Not available: {org_name}'s electronic seal is a test certificate, which "
            "Europass does not accept. Ask them to set up a qualified e-seal."
        )
    moment = now or datetime.now(UTC)
    not_after = certificate.not_after
    if not_after.tzinfo is None:
        not_after = not_after.replace(tzinfo=UTC)
    if not_after <= moment:
        return (
            f"Not available: {org_name}'s electronic seal expired on {not_after:%d %B %Y}. "
            "Ask them to renew it."
        )
    if trust_anchors:
        chain = x509.load_pem_x509_certificates(certificate.chain_pem.encode("ascii"))
        if jades.check_chain(chain, trust_anchors).status != "ok":
            return (
                f"Not available: {org_name}'s electronic seal is not from a trust service "
                "that Europass accepts as qualified. Ask them to use a qualified e-seal."
            )
    return None
