"""Issue Open Badges 3.0 credentials from catalogue micro-credentials.

One credential: build the OB 3.0 document from the catalogue, add status entries, sign it
(Data Integrity `eddsa-rdfc-2022` or VC-JWT) and store the signed text verbatim.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
from email_validator import EmailNotValidError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from badges import endorsed, status
from badges.issuing import addresses, issuers
from badges.models import IssuedCredential, Issuer
from badges.proofs import vc_jwt
from badges.proofs.canonicalize import CanonicalizationError
from badges.proofs.data_integrity import ProofError
from badges.securing import JwtAlgorithm, check_format, issuer_signer, secure
from catalogue import vocabularies
from catalogue.base import pk, table_of, utcnow
from catalogue.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from catalogue.micro_credentials import get_micro_credential
from catalogue.micro_credentials import outcomes as load_outcomes
from catalogue.models import (
    Course,
    EntryState,
    LearningOutcome,
    LearningOutcomeSkill,
    MicroCredential,
    Organisation,
    Skill,
)
from catalogue.text import fold, text_problem
from keys.sealing import MasterKey
from keys.signer import Signer
from openbadges_schemas.eu_microcredential import SCHEMA_URL as EU_MICROCREDENTIAL_SCHEMA_V1
from openbadges_schemas.loader import (
    CREDENTIALS_V2,
    EU_MICROCREDENTIAL_V1,
    OB_EXTENSIONS,
    OB_V3P0_CONTEXT_303,
)
from openbadges_schemas.ob3 import AchievementCredential

Format = Literal["ldp", "jwt"]
OB_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
_DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+(?:[#?/].*)?$")
_MAX_TEXT = 300
_MAX_NARRATIVE = 2000


class DuplicateExternalId(Conflict):
    code = "duplicate_external_id"

    def __init__(self, external_id: str, existing: IssuedCredential) -> None:
        super().__init__(
            f"external id {external_id!r} was already issued as credential {existing.uuid}",
            details={"external_id": external_id, "credential": existing.uuid},
        )
        self.existing = existing


class DraftNotIssuable(Conflict):
    """A draft micro-credential is not offered yet: nothing is awarded from it."""

    code = "draft_micro_credential"


def check_issuable(mc: MicroCredential) -> None:
    if mc.state != EntryState.published:
        raise DraftNotIssuable(
            f"micro-credential {mc.slug!r} is a draft: publish it before issuing it "
            "(nothing was issued)",
            details={"micro_credential": mc.slug},
        )


def shown_micro_credential(session: Session, slug: str) -> MicroCredential:
    """A micro-credential as the public sees it: published, or a draft that credentials were
    already issued from (their achievement `id` must keep answering); NotFound otherwise."""
    mc = get_micro_credential(session, slug)
    if mc.state != EntryState.published and not awarded(session, mc):
        raise NotFound(f"micro-credential {slug!r} does not exist")
    return mc


def awarded(session: Session, mc: MicroCredential) -> bool:
    found = session.exec(
        select(IssuedCredential.id).where(IssuedCredential.micro_credential_id == mc.id).limit(1)
    ).first()
    return found is not None


@dataclass(frozen=True)
class Recipient:
    """A learner to award. `name` is the full name as printed; `given_name` and `family_name`
    are optional (the EDC's givenName / familyName): with them and no `name`, the full name is
    the given name(s) then the family name(s)."""

    name: str
    email: str
    did: str | None = None
    grade: str | None = None
    evidence_url: str | None = None
    external_id: str | None = None
    evidence_narrative: str | None = None  # what the learner did, in words (several lines)
    given_name: str | None = None
    family_name: str | None = None
    # The learner agreed that the e-mail address be shown in their Europass credential (as its
    # contactPoint). Off unless asked for.
    contact_consent: bool = False


@dataclass(frozen=True)
class Urls:
    """Where the deployment publishes things; credentials point at these."""

    base_url: str

    def credential(self, credential_uuid: str) -> str:
        return f"{self.base_url}/credentials/{credential_uuid}"

    def micro_credential(self, slug: str) -> str:
        return f"{self.base_url}/micro-credentials/{slug}"

    def issuer_profile(self, slug: str) -> str:
        return f"{self.base_url}/issuers/{slug}"


# --- input checks ------------------------------------------------------------------------


def _http_url(field: str, value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 1000:
        raise InvalidInput(f"{field}: must be an absolute http(s) URL", details={"field": field})
    return value


def check_recipient(recipient: Recipient) -> Recipient:
    """A normalised recipient, or InvalidInput naming the field."""
    # Before normalising: a name with a line break is a mistake to report, not to mend, and
    # no field may carry a control character or lone surrogate into a credential or e-mail.
    for field in _ONE_LINE_FIELDS:
        value = getattr(recipient, field)
        problem = text_problem(value, single_line=True) if isinstance(value, str) else None
        if problem:
            raise InvalidInput(f"{field}: {problem}", details={"field": field})
    narrative = (recipient.evidence_narrative or "").replace("\r\n", "\n").strip() or None
    problem = text_problem(narrative, single_line=False) if narrative else None
    if problem or (narrative and len(narrative) > _MAX_NARRATIVE):
        raise InvalidInput(
            f"evidence_narrative: {problem or f'at most {_MAX_NARRATIVE} characters'}",
            details={"field": "evidence_narrative"},
        )
    given, family = (
        _name_part("given_name", recipient.given_name),
        _name_part("family_name", recipient.family_name),
    )
    name = " ".join((recipient.name or "").split()) or " ".join(filter(None, (given, family)))
    if not name:
        raise InvalidInput(
            "name: the recipient's name is required (the full name, or given and family names)",
            details={"field": "name"},
        )
    if len(name) > _MAX_TEXT:
        raise InvalidInput(f"name: at most {_MAX_TEXT} characters", details={"field": "name"})
    try:
        email = addresses.normalized(recipient.email or "")
    except EmailNotValidError as exc:
        raise InvalidInput(f"email: {exc}", details={"field": "email"}) from None
    did = (recipient.did or "").strip() or None
    if did and (not _DID.match(did) or len(did) > 500):
        raise InvalidInput(f"did: {did!r} is not a DID", details={"field": "did"})
    grade = (recipient.grade or "").strip() or None
    if grade and len(grade) > 100:
        raise InvalidInput("grade: at most 100 characters", details={"field": "grade"})
    external_id = (recipient.external_id or "").strip() or None
    if external_id and len(external_id) > 200:
        raise InvalidInput("external_id: at most 200 characters", details={"field": "external_id"})
    return Recipient(
        name=name,
        email=email,
        did=did,
        grade=grade,
        evidence_url=_http_url("evidence_url", recipient.evidence_url),
        external_id=external_id,
        evidence_narrative=narrative,
        given_name=given,
        family_name=family,
        contact_consent=consent("contact_consent", recipient.contact_consent),
    )


_YES = ("yes", "y", "true", "1", "x", "ja", "j", "oui", "on")
_NO = ("no", "n", "false", "0", "nein", "non", "off", "")


def consent(field: str, value: object) -> bool:
    """A yes/no answer, as a form, a JSON body or a spreadsheet cell gives it ("yes", "ja",
    "x", true, 1, empty for no); anything else is refused rather than read as either."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidInput(
        f"{field}: answer yes or no (or leave it empty for no)", details={"field": field}
    )


_ONE_LINE_FIELDS = (
    "name", "given_name", "family_name", "email", "did", "grade", "evidence_url", "external_id",
)  # fmt: skip


def _name_part(field: str, value: str | None) -> str | None:
    part = " ".join((value or "").split()) or None
    if part and len(part) > _MAX_TEXT:
        raise InvalidInput(f"{field}: at most {_MAX_TEXT} characters", details={"field": field})
    return part


def search_text(name: str, email: str) -> str:
    """What the recipients search matches: name and e-mail, folded (catalogue.text.fold)."""
    return fold(f"{name} {email}")[:700]


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityObject hash of an e-mail: `sha256$` + hex(SHA-256(lower(email) + salt))."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


# --- building ----------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def valid_until(mc: MicroCredential, valid_from: datetime) -> datetime | None:
    if mc.valid_for_months:
        return _add_months(valid_from, mc.valid_for_months)
    if mc.valid_for_days:
        return valid_from + timedelta(days=mc.valid_for_days)
    return None


def _skills(session: Session, mc: MicroCredential) -> list[Skill]:
    statement = (
        select(Skill)
        .join(LearningOutcomeSkill, col(LearningOutcomeSkill.skill_id) == col(Skill.id))
        .join(LearningOutcome, col(LearningOutcome.id) == col(LearningOutcomeSkill.outcome_id))
        .where(LearningOutcome.micro_credential_id == mc.id)
        .order_by(col(LearningOutcome.position), col(Skill.preferred_label))
    )
    seen: dict[int, Skill] = {}
    for skill in session.exec(statement):
        seen.setdefault(pk(skill), skill)
    return list(seen.values())


def _alignment(skill: Skill) -> dict[str, Any]:
    alignment: dict[str, Any] = {
        "type": ["Alignment"],
        "targetName": skill.preferred_label,
        "targetUrl": skill.iri,
        "targetType": "ceasn:Competency",
    }
    if skill.description:
        alignment["targetDescription"] = skill.description
    if skill.iri.startswith(ESCO_SKILL_PREFIX):
        alignment["targetFramework"] = "ESCO"
        alignment["targetCode"] = skill.iri.removeprefix(ESCO_SKILL_PREFIX)
    return alignment


def _framework_alignment(
    scheme: str, code: str | int, framework: str, target_type: str
) -> dict[str, Any]:
    """EQF level or ISCED-F field as an alignment to the official framework IRI."""
    concept = vocabularies.concept(scheme, code)  # EQF and ISCED-F codes are validated
    return {
        "type": ["Alignment"],
        "targetName": concept.label,
        "targetUrl": concept.iri,
        "targetFramework": framework,
        "targetCode": str(code),
        "targetType": target_type,
    }


def _concept(scheme: str, code: str | int) -> dict[str, Any]:
    """The vocabulary concept; a stored code outside the vocabulary (older rows) by its text."""
    found = vocabularies.scheme(scheme).get(str(code).strip())
    if found is None:
        return {"type": "Concept", "prefLabel": str(code)}
    return {
        "id": found.iri,
        "type": "Concept",
        "prefLabel": found.label,
        "inScheme": found.scheme_iri,
    }


def _qa_body(mc: MicroCredential) -> dict[str, Any]:
    """The quality-assurance body as an OB 3.0 Profile (its terms from the OB context)."""
    body: dict[str, Any] = {}
    if mc.quality_assurance_body_uri:
        body["id"] = mc.quality_assurance_body_uri
    body["type"] = ["Profile"]
    body["name"] = mc.quality_assurance_body_name
    if mc.quality_assurance_body_homepage:
        body["url"] = mc.quality_assurance_body_homepage
    body["address"] = {
        "type": ["Address"],
        "addressCountryCode": mc.quality_assurance_body_country or mc.country,
    }
    return body


def eu_elements(session: Session, mc: MicroCredential, urls: Urls) -> dict[str, Any]:
    """The Council Recommendation's elements OB 3.0 has no property for (our context)."""
    details: dict[str, Any] = {
        "type": "EUMicroCredential",
        "formOfParticipation": _concept("mode", mc.mode),
    }
    course = session.get(Course, mc.course_id)
    if course is not None and course.learning_setting:
        details["learningSetting"] = _concept("learning-setting", course.learning_setting)
    details["assessmentType"] = _concept("assessment", mc.assessment_type)
    if mc.supervision:
        details["supervisionAndIdentityCheck"] = _concept("supervision", mc.supervision)
    details["qualityAssurance"] = _concept("quality-assurance", mc.quality_assurance)
    if mc.quality_assurance_body_name:
        details["qualityAssuranceBody"] = _qa_body(mc)
    if mc.ects is not None:
        details["ectsCredits"] = mc.ects
    if mc.workload_hours:
        details["workloadHours"] = mc.workload_hours
    if mc.prerequisites:
        details["prerequisites"] = mc.prerequisites
    if mc.maximum_duration:
        details["maximumDuration"] = mc.maximum_duration
    stack = (
        session.get(MicroCredential, mc.stackable_towards_id) if mc.stackable_towards_id else None
    )
    if stack is not None:
        details["stackableTowards"] = urls.micro_credential(stack.slug)
    return details


def _result_type(grade: str) -> str:
    if grade.endswith("%"):
        return "Percent"
    if re.fullmatch(r"[A-F][+-]?", grade):
        return "LetterGrade"
    return "ext:Grade"


def issuer_profile(issuer: Issuer, org: Organisation, urls: Urls) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": issuer.did,
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url or urls.issuer_profile(issuer.slug),
    }
    if issuer.description:
        profile["description"] = issuer.description
    if issuer.image_url:
        profile["image"] = {"id": issuer.image_url, "type": "Image"}
    if issuer.email:
        profile["email"] = issuer.email
    profile["address"] = {"type": ["Address"], "addressCountryCode": org.country}
    if org.registration_id:
        profile["otherIdentifier"] = [
            {
                "type": "IdentifierEntry",
                "identifier": org.registration_id,
                "identifierType": "identifier",
            }
        ]
    return profile


# The identifier type under which the served profile lists a did:key issuer's VC-JWT key.
SIGNING_KEY_IDENTIFIER = "ext:VcJwtSigningKey"


def profile_document(session: Session, issuer: Issuer, urls: Urls) -> dict[str, Any]:
    """The issuer's public OB 3.0 Profile as a JSON-LD document; it lists the did:key of any
    key its own DID cannot (a did:key issuer's ES256 key)."""
    profile = issuer_profile(issuer, issuers.organisation_of(session, issuer), urls)
    keys = [
        {"type": "IdentifierEntry", "identifier": did, "identifierType": SIGNING_KEY_IDENTIFIER}
        for did in issuers.signing_identifiers(session, issuer)
    ]
    if keys:
        profile["otherIdentifier"] = [*profile.get("otherIdentifier", []), *keys]
    return {"@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT_303], **profile}


def build_achievement(
    session: Session, mc: MicroCredential, urls: Urls, *, with_grade: bool
) -> dict[str, Any]:
    achievement_id = urls.micro_credential(mc.slug)
    outcomes = load_outcomes(session, pk(mc))
    narrative = mc.criteria_narrative or mc.title
    if outcomes:
        # The outcome statements, as the criteria a learner met (Markdown, as OB 3.0 allows).
        listed = "\n".join(f"- {outcome.text}" for outcome in outcomes)
        narrative = f"{narrative}\n\nLearning outcomes:\n\n{listed}"
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": mc.achievement_type,
        "name": mc.title,
        "description": mc.description or mc.title,
        "criteria": {"id": achievement_id, "narrative": narrative},
        # Always an image: the upload, or the drawn default the app serves at the same URL.
        "image": {"id": mc.badge_image_url or default_image_url(urls, mc.slug), "type": "Image"},
    }
    alignments = [_alignment(skill) for skill in _skills(session, mc)]
    alignments += [
        {
            "type": ["Alignment"],
            "targetName": outcome.text[:_MAX_TEXT],
            "targetDescription": outcome.text,
            "targetUrl": f"{achievement_id}#outcome-{index}",
            "targetType": "ext:LearningOutcome",
        }
        for index, outcome in enumerate(outcomes, 1)
    ]
    if mc.eqf_level is not None:
        alignments.append(
            _framework_alignment(
                "eqf", mc.eqf_level, "European Qualifications Framework", "ext:EQFLevel"
            )
        )
    if mc.isced_f:
        alignments.append(_framework_alignment("isced-f", mc.isced_f, "ISCED-F 2013", "ext:ISCEDF"))
    if alignments:
        achievement["alignment"] = alignments
    achievement["euMicroCredential"] = eu_elements(session, mc, urls)
    if mc.isced_f:
        achievement["fieldOfStudy"] = vocabularies.concept("isced-f", mc.isced_f).label
    if mc.languages:
        achievement["inLanguage"] = mc.languages[0]
    if with_grade:
        achievement["resultDescription"] = [
            {
                "id": f"{achievement_id}#grade",
                "type": ["ResultDescription"],
                "name": "Grade",
                "resultType": "LetterGrade",
            }
        ]
    return achievement


def build_credential(
    session: Session,
    *,
    credential_uuid: str,
    issuer: Issuer,
    org: Organisation,
    mc: MicroCredential,
    recipient: Recipient,
    salt: str,
    valid_from: datetime,
    urls: Urls,
    status_entries: list[dict[str, Any]] | None = None,
    endorsements: list[Any] | None = None,
    achievement: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The unsigned OB 3.0 credential (VC DM 2.0) for one award; `endorsements`: signed
    EndorsementCredentials of the micro-credential (objects, or compact JWS for a VC-JWT);
    `achievement` is the one `build_achievement` gives for this micro-credential (built once
    for a batch), copied."""
    if achievement is None:
        achievement = build_achievement(session, mc, urls, with_grade=recipient.grade is not None)
    else:
        achievement = copy.deepcopy(achievement)
    if recipient.grade:
        achievement["resultDescription"][0]["resultType"] = _result_type(recipient.grade)
    credential = _assembled(
        credential_uuid=credential_uuid,
        issuer=issuer_profile(issuer, org, urls),
        achievement=achievement,
        mc=mc,
        recipient=recipient,
        salt=salt,
        valid_from=valid_from,
        urls=urls,
        status_entries=status_entries,
    )
    # Through the OB 3.0 models: they own the emitted shape (arrays where the schema wants them).
    shaped = _in_order_of(credential, AchievementCredential.from_jsonld(credential).to_jsonld())
    if endorsements:
        # Signed by their endorsers: carried verbatim, after the models (which would re-shape).
        key = "endorsementJwt" if isinstance(endorsements[0], str) else "endorsement"
        shaped["credentialSubject"]["achievement"][key] = list(endorsements)
    return shaped


def _assembled(
    *,
    credential_uuid: str,
    issuer: dict[str, Any],
    achievement: dict[str, Any],
    mc: MicroCredential,
    recipient: Recipient,
    salt: str,
    valid_from: datetime,
    urls: Urls,
    status_entries: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The credential from its parts, as written (unshaped); `issuer` and `achievement` are
    used as they are, not copied."""
    subject: dict[str, Any] = {}
    if recipient.did:
        subject["id"] = recipient.did
    subject["type"] = ["AchievementSubject"]
    subject["identifier"] = [
        {
            "type": "IdentityObject",
            "identityHash": identity_hash(recipient.email, salt),
            "identityType": "emailAddress",
            "hashed": True,
            "salt": salt,
        },
        # The name in clear, as on any certificate: the verifier shows an employer to whom.
        {
            "type": "IdentityObject",
            "identityHash": recipient.name,
            "identityType": "name",
            "hashed": False,
        },
    ]
    subject["achievement"] = achievement
    if recipient.grade:
        subject["result"] = [
            {
                "type": ["Result"],
                "resultDescription": achievement["resultDescription"][0]["id"],
                "value": recipient.grade,
            }
        ]
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT_303, OB_EXTENSIONS, EU_MICROCREDENTIAL_V1],
        "id": urls.credential(credential_uuid),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": mc.title,
        "issuer": issuer,
        "validFrom": _iso(valid_from),
        "awardedDate": _iso(valid_from),
    }
    until = valid_until(mc, valid_from)
    if until:
        credential["validUntil"] = _iso(until)
    credential["credentialSubject"] = subject
    credential["credentialSchema"] = [
        {"id": OB_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"},
        {"id": EU_MICROCREDENTIAL_SCHEMA_V1, "type": "1EdTechJsonSchemaValidator2019"},
    ]
    if status_entries:
        # OB 3.0 (and its JSON Schema) allow one status object; VC DM 2.0 allows a list.
        single = len(status_entries) == 1
        credential["credentialStatus"] = status_entries[0] if single else status_entries
    credential["evidence"] = [_evidence(mc, recipient)]
    return credential


def _evidence(mc: MicroCredential, recipient: Recipient) -> dict[str, Any]:
    """The assessment that proved the achievement, with the provider's narrative and the
    learner's evidence URL when given."""
    assessment = _concept("assessment", mc.assessment_type)["prefLabel"]
    evidence: dict[str, Any] = {"id": recipient.evidence_url} if recipient.evidence_url else {}
    assessed = (
        f"Assessed by {assessment.lower()}"
        + (f"; result: {recipient.grade}" if recipient.grade else "")
        + "."
    )
    # The provider's own words about this learner's evidence come first, when given.
    narrative = "\n\n".join(filter(None, (recipient.evidence_narrative, assessed)))
    evidence |= {
        "type": ["Evidence"],
        "name": "Evidence of learning",
        "narrative": narrative,
        "genre": assessment,
    }
    return evidence


def default_image_url(urls: Urls, slug: str) -> str:
    """Where the app serves a micro-credential's image (the drawn default without an upload)."""
    return f"{urls.micro_credential(slug)}/image"


def _in_order_of(template: Any, value: Any) -> Any:
    """`value` with its keys in the order `template` gives them (readable: @context, id, type…)."""
    if isinstance(value, dict) and isinstance(template, dict):
        ordered = {k: _in_order_of(template[k], value[k]) for k in template if k in value}
        return ordered | {k: v for k, v in value.items() if k not in ordered}
    if isinstance(value, list) and isinstance(template, list) and len(value) == len(template):
        return [_in_order_of(t, v) for t, v in zip(template, value, strict=True)]
    return value


# --- signing -----------------------------------------------------------------------------


def sign(
    session: Session,
    master_key: MasterKey,
    issuer: Issuer,
    credential: dict[str, Any],
    fmt: str,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> str:
    """The signed credential as the text to store and serve: JSON with a proof, or a JWS."""
    checked = check_format(fmt)
    signer = issuer_signer(session, master_key, pk(issuer), checked, jwt_algorithm=jwt_algorithm)
    return signed_text(credential, checked, signer)


def signed_text(credential: dict[str, Any], fmt: Format, signer: Signer) -> str:
    """`credential` secured with `signer`, as the text to store (InvalidInput when it cannot)."""
    try:
        # Our own shapes: signed through a compiled template (badges.proofs.compiled).
        signed = secure(credential, fmt, signer, created=credential["validFrom"], shapes="compile")
    except CanonicalizationError as exc:
        raise InvalidInput(f"the credential is not valid JSON-LD: {exc}") from None
    except (ProofError, vc_jwt.JwtError) as exc:
        raise InvalidInput(f"the credential cannot be signed: {exc}") from None
    if isinstance(signed, str):
        return signed
    # The formal OB 3.0 schema wants `proof` as an array; in JSON-LD it is the same graph.
    signed["proof"] = [signed["proof"]]
    # The text as json.dumps(indent=2, ensure_ascii=False) writes it, ten times faster (the
    # stdlib's indenting encoder is pure Python): the same bytes for our credentials, which
    # hold no float beyond 1e16 or below 1e-4 (written with another exponent form).
    return orjson.dumps(signed, option=orjson.OPT_INDENT_2).decode()


# --- issuing -----------------------------------------------------------------------------


def find_by_external_id(
    session: Session, issuer_id: int, external_id: str
) -> IssuedCredential | None:
    statement = select(IssuedCredential).where(
        IssuedCredential.issuer_id == issuer_id, IssuedCredential.external_id == external_id
    )
    return session.exec(statement).first()


def check_awards(session: Session, issuer: Issuer, micro_credential: MicroCredential) -> None:
    """Forbidden unless the issuer's organisation runs the micro-credential's course."""
    course = session.get(Course, micro_credential.course_id)
    if course is None or course.organisation_id != issuer.organisation_id:
        raise Forbidden(
            f"micro-credential {micro_credential.slug!r} is not awarded by issuer {issuer.slug!r}"
        )


# Which optional parts a credential has: credentials alike in these differ only in the
# plain strings the OB 3.0 models pass through unchanged (names, hashes, URLs, the grade).
ShapeKey = tuple[bool, str | None, bool, bool, int]


@dataclass
class IssueContext:
    """What every credential of one issuer, micro-credential and format shares: loaded once
    for a batch (the signer's key unsealed once, the achievement built once)."""

    issuer: Issuer
    org: Organisation
    micro_credential: MicroCredential
    fmt: Format
    urls: Urls
    signer: Signer
    status_purposes: tuple[str, ...]
    achievements: dict[bool, dict[str, Any]]
    # Per shape, the issuer and achievement as the models shaped them for its first
    # credential; None: that shape always goes through the models.
    shaped: dict[ShapeKey, tuple[dict[str, Any], dict[str, Any]] | None] = dataclasses.field(
        default_factory=dict
    )
    # The micro-credential's endorsements valid now (read once per batch), which the
    # achievement carries.
    endorsements: list[Any] = dataclasses.field(default_factory=list)

    def carry(self, endorsements: list[Any]) -> None:
        if endorsements != self.endorsements:  # one ended or began: the shapes change
            self.endorsements = endorsements
            self.shaped.clear()

    def achievement(self, session: Session, with_grade: bool) -> dict[str, Any]:
        if with_grade not in self.achievements:
            self.achievements[with_grade] = build_achievement(
                session, self.micro_credential, self.urls, with_grade=with_grade
            )
        return self.achievements[with_grade]

    def credential(
        self,
        session: Session,
        *,
        credential_uuid: str,
        recipient: Recipient,
        salt: str,
        valid_from: datetime,
        status_entries: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """`build_credential`'s document, without its per-credential model round trip: the
        first credential of each shape goes through the models, and the rest of that shape
        reuse its shaped issuer and achievement (shared, never changed) once the direct
        assembly gave the very same JSON for that first one."""
        key: ShapeKey = (
            recipient.did is not None,
            _result_type(recipient.grade) if recipient.grade else None,
            recipient.evidence_url is not None,
            recipient.evidence_narrative is not None,
            len(status_entries),
        )
        parts: dict[str, Any] = dict(
            credential_uuid=credential_uuid,
            mc=self.micro_credential,
            recipient=recipient,
            salt=salt,
            valid_from=valid_from,
            urls=self.urls,
            status_entries=status_entries,
        )
        shared = self.shaped.get(key, ())
        if shared:
            issuer, achievement = shared
            return _assembled(issuer=issuer, achievement=achievement, **parts)
        modelled = build_credential(
            session,
            issuer=self.issuer,
            org=self.org,
            endorsements=self.endorsements,
            achievement=self.achievement(session, recipient.grade is not None),
            **parts,
        )
        if shared == ():  # the first of its shape: may the next ones skip the models?
            issuer, achievement = modelled["issuer"], modelled["credentialSubject"]["achievement"]
            direct = _assembled(issuer=issuer, achievement=achievement, **parts)
            alike = json.dumps(direct) == json.dumps(modelled)  # order counts: the stored text
            self.shaped[key] = (issuer, achievement) if alike else None
        return modelled


def issue_context(
    session: Session,
    master_key: MasterKey,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    base_url: str,
    fmt: str = "ldp",
    status_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> IssueContext:
    """Check that the issuer awards the micro-credential and load what its awards share."""
    checked = check_format(fmt)
    check_issuable(micro_credential)
    check_awards(session, issuer, micro_credential)
    signer = issuer_signer(session, master_key, pk(issuer), checked, jwt_algorithm=jwt_algorithm)
    return IssueContext(
        issuer=issuer,
        org=issuers.organisation_of(session, issuer),
        micro_credential=micro_credential,
        fmt=checked,
        urls=Urls(base_url),
        signer=signer,
        status_purposes=status_purposes,
        achievements={},
    )


@dataclass
class Outcome:
    """One recipient's result in a batch: the new credential's uuid, or the error that
    stopped it."""

    uuid: str | None = None
    error: DomainError | None = None


# session.info key: credentials inserted in the session's transaction (skillshub.metrics
# counts them at the commit; the bulk insert passes no ORM objects through the flush).
ISSUED_COUNT = "badges.issued"


def issue_many(
    session: Session,
    master_key: MasterKey,
    context: IssueContext,
    recipients: list[Recipient],
    *,
    now: datetime | None = None,
) -> list[Outcome]:
    """Sign and insert one credential per (checked) recipient in the caller's transaction:
    the status indexes of the whole batch allocated in a few statements, the rows inserted
    by one executemany. A recipient whose credential cannot be signed gets its error and
    gives its indexes back. External ids are the caller's to check first; the unique
    constraint still stops a concurrent duplicate (IntegrityError: the caller rolls back)."""
    valid_from = (now or datetime.now(UTC)).replace(microsecond=0)
    created = utcnow()
    uuids = [str(uuid.uuid4()) for _ in recipients]
    entries = status.allocate_many(
        session,
        master_key,
        issuer=context.issuer,
        base_url=context.urls.base_url,
        credential_uuids=uuids,
        purposes=context.status_purposes,
    )
    # The micro-credential's endorsements valid now, read once for the batch.
    context.carry(endorsed.carried(session, pk(context.micro_credential), context.fmt, valid_from))
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []
    for credential_uuid, recipient in zip(uuids, recipients, strict=True):
        try:
            rows.append(
                _signed_row(session, context, recipient, credential_uuid, entries, valid_from)
                | {"created_at": created}
            )
        except DomainError as exc:
            outcomes.append(Outcome(error=exc))
            continue
        outcomes.append(Outcome(uuid=credential_uuid))
    status.release(session, [u for u, done in zip(uuids, outcomes, strict=True) if done.error])
    if rows:
        # Core executemany, not ORM objects: constructing and flushing those cost more than
        # signing the credentials.
        session.execute(insert(table_of(IssuedCredential)), rows)
        session.info[ISSUED_COUNT] = session.info.get(ISSUED_COUNT, 0) + len(rows)
    return outcomes


def _signed_row(
    session: Session,
    context: IssueContext,
    recipient: Recipient,
    credential_uuid: str,
    entries: dict[str, list[dict[str, Any]]],
    valid_from: datetime,
) -> dict[str, Any]:
    """The issued_credential row of one signed credential, every column but `created_at`."""
    salt = secrets.token_hex(16)
    credential = context.credential(
        session,
        credential_uuid=credential_uuid,
        recipient=recipient,
        salt=salt,
        valid_from=valid_from,
        status_entries=entries[credential_uuid],
    )
    return {
        "uuid": credential_uuid,
        "issuer_id": pk(context.issuer),
        "micro_credential_id": pk(context.micro_credential),
        "format": context.fmt,
        "source": "catalogue",
        "credential_id": None,
        "recipient_name": recipient.name,
        "recipient_given_name": recipient.given_name,
        "recipient_family_name": recipient.family_name,
        "recipient_contact_consent": recipient.contact_consent,
        "recipient_email": recipient.email,
        "recipient_did": recipient.did,
        "identity_hash": credential["credentialSubject"]["identifier"][0]["identityHash"],
        "external_id": recipient.external_id,
        "grade": recipient.grade,
        "evidence_url": recipient.evidence_url,
        "evidence_narrative": recipient.evidence_narrative,
        "valid_from": valid_from,
        "valid_until": valid_until(context.micro_credential, valid_from),
        "signed": signed_text(credential, context.fmt, context.signer),
        "public": False,
        "revoked_at": None,
        "suspended": False,
        "delivery_status": None,
        "delivery_error": None,
        "claimed_at": None,
        "search_text": search_text(recipient.name, recipient.email),
        "erased_at": None,
    }


def issue(
    session: Session,
    master_key: MasterKey,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    recipient: Recipient,
    base_url: str,
    fmt: str = "ldp",
    now: datetime | None = None,
    status_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> IssuedCredential:
    """Sign and store one credential (a batch of one, `issue_many`). Nothing is written
    unless the whole award succeeds."""
    check_format(fmt)
    check_issuable(micro_credential)
    recipient = check_recipient(recipient)
    check_awards(session, issuer, micro_credential)
    if recipient.external_id:
        existing = find_by_external_id(session, pk(issuer), recipient.external_id)
        if existing is not None:
            raise DuplicateExternalId(recipient.external_id, existing)
    context = issue_context(
        session,
        master_key,
        issuer=issuer,
        micro_credential=micro_credential,
        base_url=base_url,
        fmt=fmt,
        status_purposes=status_purposes,
        jwt_algorithm=jwt_algorithm,
    )
    savepoint = session.begin_nested()
    try:
        [outcome] = issue_many(session, master_key, context, [recipient], now=now)
        if outcome.error is not None:
            raise outcome.error
        record = find_credential(session, outcome.uuid or "")
    except IntegrityError:
        savepoint.rollback()
        existing = (
            find_by_external_id(session, pk(issuer), recipient.external_id)
            if recipient.external_id
            else None
        )
        if existing is not None and recipient.external_id:
            raise DuplicateExternalId(recipient.external_id, existing) from None
        raise
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    assert record is not None
    return record


def find_credential(session: Session, credential_uuid: str) -> IssuedCredential | None:
    return session.exec(
        select(IssuedCredential).where(IssuedCredential.uuid == credential_uuid)
    ).first()


def get_credential(session: Session, credential_uuid: str) -> IssuedCredential:
    record = find_credential(session, credential_uuid)
    if record is None:
        raise NotFound(f"credential {credential_uuid!r} does not exist")
    return record


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def credential_uuid_of(session: Session, reference: str, base_url: str) -> str:
    """The UUID of the credential `reference` names: its UUID, its `id` URL as `issue` prints
    it (`{BASE_URL}/credentials/{uuid}`), or the `id` a VC-API credential was given (e.g.
    `urn:uuid:…`). NotFound when none matches; Conflict when several VC-API credentials
    share the id."""
    reference = reference.strip()
    own = Urls(base_url).credential("")
    if reference.startswith(own) and _UUID.fullmatch(reference.removeprefix(own)):
        return reference.removeprefix(own)
    if _UUID.fullmatch(reference) and find_credential(session, reference) is not None:
        return reference
    matches = session.exec(
        select(IssuedCredential.uuid).where(IssuedCredential.credential_id == reference).limit(2)
    ).all()
    if len(matches) > 1:
        raise Conflict(f"several credentials have the id {reference!r}: name one by its UUID")
    if not matches:
        raise NotFound(f"credential {reference!r} does not exist")
    return matches[0]


def awarded_micro_credential(session: Session, record: IssuedCredential) -> MicroCredential | None:
    """The micro-credential a credential awards (None for a VC-API credential of none)."""
    if record.micro_credential_id is None:
        return None
    return session.get(MicroCredential, record.micro_credential_id)


@dataclass(frozen=True)
class OwnedCredential:
    record: IssuedCredential
    issuer: Issuer
    micro_credential_slug: str


def owned_credential(
    session: Session, credential_uuid: str, organisation_id: int | None
) -> OwnedCredential:
    """A credential with its issuer, if the organisation issued it. Another organisation's
    credential is NotFound, word for word as an unknown id: credentials are private, so the
    answer must not tell that one exists."""
    record = get_credential(session, credential_uuid)
    issuer = session.get(Issuer, record.issuer_id)
    if issuer is None or issuer.organisation_id != organisation_id:
        raise NotFound(f"credential {credential_uuid!r} does not exist")
    mc = awarded_micro_credential(session, record)
    return OwnedCredential(record, issuer, mc.slug if mc else "")


def signed_document(record: IssuedCredential) -> dict[str, Any] | str:
    """The stored credential as served: parsed JSON for Data Integrity, the JWS for VC-JWT."""
    return json.loads(record.signed) if record.format == "ldp" else record.signed
