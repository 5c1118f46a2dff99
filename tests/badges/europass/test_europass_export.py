"""Europass export of demo awards: sealed with the demo's TEST e-seal, SHACL-conformant,
verifiable by our verifier and jwcrypto; refusals that export nothing."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlmodel import Session, col, select

from badges import europass, issuing, status
from badges.europass import EuropassIncomplete
from badges.models import Issuer
from catalogue.errors import Conflict, NotFound
from catalogue.models import Course, MicroCredential
from keys import eseal
from keys.eseal_models import SealCertificate
from keys.sealing import MasterKey
from keys.store import ensure_master_key
from skillshub.demo import load_demo
from skillshub.settings import Settings
from tests.support.elm_shacl import validate
from tests.support.present import one, present
from tests.support.tsa import running_tsa


@dataclass
class Demo:
    master_key: MasterKey
    awards: dict[str, str]  # micro-credential slug -> credential uuid
    settings: Settings


@pytest.fixture
def demo(session: Session, settings: Settings) -> Demo:
    load_demo(session, settings)
    master_key = ensure_master_key(session, settings.resolved_master_key())
    awards = {}
    for mc in session.exec(select(MicroCredential).order_by(col(MicroCredential.id))):
        course = one(session, Course, mc.course_id)
        issuer = present(
            session.exec(
                select(Issuer).where(Issuer.organisation_id == course.organisation_id)
            ).first()
        )
        record = issuing.issue(
            session,
            master_key,
            issuer=issuer,
            micro_credential=mc,
            recipient=issuing.Recipient(
                name="",
                given_name="Ana",
                family_name="Andromeda",
                email="ana@example.org",
                grade="Pass",
            ),
            base_url=settings.base_url,
        )
        awards[mc.slug] = record.uuid
    return Demo(master_key, awards, settings)


def _exportable(session: Session, demo: Demo) -> list[str]:
    slugs = [
        slug
        for slug in demo.awards
        if session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).one().ects
    ]
    assert len(slugs) >= 3, "the demo should have several micro-credentials with ECTS"
    return slugs


def _leaf(document: dict) -> x509.Certificate:
    protected = document["signatures"][0]["protected"]
    header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    return x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))


def _leaf_key(document: dict) -> rsa.RSAPublicKey:
    key = _leaf(document).public_key()
    assert isinstance(key, rsa.RSAPublicKey)  # the demo seals with RS256
    return key


@pytest.mark.slow  # SHACL over every demo award
def test_demo_awards_export_sealed_and_conform_to_the_shapes(session: Session, demo: Demo) -> None:
    for slug in _exportable(session, demo):
        export = europass.export_europass(session, demo.master_key, demo.awards[slug])
        assert export.sealed and export.self_signed and export.notes
        assert export.media_type == europass.SEALED_MEDIA_TYPE

        report = europass.verify_edc(export.document)
        assert report.intact and not report.valid, report.checks  # self-signed: untrusted
        assert report.status_of("signature") == "ok" and report.status_of("chain") == "warning"

        credential = json.loads(export.document["payload"])
        conforms, _paths, text = validate(credential)
        assert conforms, f"{slug}: {text}"
        assert credential["issuer"]["eIDASIdentifier"]["notation"].startswith("NTR")


def test_the_seal_verifies_with_jwcrypto_and_breaks_on_one_byte(
    session: Session, demo: Demo
) -> None:
    from jwcrypto import jwk, jws

    slug = _exportable(session, demo)[0]
    document = europass.export_europass(session, demo.master_key, demo.awards[slug]).document
    # Only b64 is critical: a plain RFC 7797 implementation needs no extra registry.
    token = jws.JWS()
    token.deserialize(json.dumps(document))
    token.verify(jwk.JWK.from_pyca(_leaf_key(document)), alg="RS256")

    tampered = dict(document, payload=document["payload"].replace("Ana Andromeda", "Ana Andromedb"))
    assert europass.verify_edc(tampered).status_of("signature") == "error"
    token = jws.JWS()
    token.deserialize(json.dumps(tampered))
    with pytest.raises(jws.InvalidJWSSignature):
        token.verify(jwk.JWK.from_pyca(_leaf_key(document)), alg="RS256")


def test_without_a_certificate_the_uploadable_form_is_exported(
    session: Session, demo: Demo
) -> None:
    for record in session.exec(select(SealCertificate)):
        session.delete(record)
    session.flush()
    slug = _exportable(session, demo)[0]
    export = europass.export_europass(session, demo.master_key, demo.awards[slug])
    assert not export.sealed and export.filename.endswith("-unsigned.json")
    assert set(export.document) == {"credential", "deliveryDetails"}
    assert export.document["deliveryDetails"] == {"walletAddress": "ana@example.org"}
    learner = export.document["credential"]["credentialSubject"]
    assert (learner["givenName"], learner["familyName"], learner["fullName"]) == (
        {"en": "Ana"},
        {"en": "Andromeda"},
        {"en": "Ana Andromeda"},
    )
    assert "contactPoint" not in learner  # the learner did not agree to it
    _conforms, paths, _text = validate(export.document["credential"])
    assert paths == {"issued", "issuer", "eidasLegalIdentifier"}  # added by the EC's issuer


def test_a_named_quality_assurance_body_is_the_accrediting_agent_else_a_note_says_so(
    session: Session, demo: Demo
) -> None:
    named: list[str] = []
    unnamed: list[str] = []
    for slug in _exportable(session, demo):
        mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).one()
        (named if mc.quality_assurance_body_name else unnamed).append(slug)
    assert named and unnamed, "the demo names a body for some micro-credentials, not all"
    export = europass.export_europass(session, demo.master_key, demo.awards[named[0]])
    spec = json.loads(export.document["payload"])["credentialSubject"]["hasClaim"]["specifiedBy"]
    agent = spec["accreditation"]["accreditingAgent"]
    assert agent["legalName"] == {"en": "Demo Accreditation Agency for Engineering Programmes"}
    assert spec["maximumDuration"] == "P6M"
    assert not any("quality-assurance body" in note for note in export.notes)
    other = europass.export_europass(session, demo.master_key, demo.awards[unnamed[0]])
    assert any("No quality-assurance body is named" in note for note in other.notes)


def test_the_learners_e_mail_is_the_contact_point_only_with_consent(
    session: Session, demo: Demo
) -> None:
    slug = _exportable(session, demo)[0]
    mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).one()
    first = issuing.get_credential(session, demo.awards[slug])
    issuer = one(session, Issuer, first.issuer_id)
    agreed = issuing.issue(
        session,
        demo.master_key,
        issuer=issuer,
        micro_credential=mc,
        recipient=issuing.Recipient("Bo Brand", "Bo@Example.org", contact_consent=True),
        base_url=demo.settings.base_url,
    )
    assert agreed.recipient_contact_consent and not first.recipient_contact_consent
    export = europass.export_europass(session, demo.master_key, agreed.uuid)
    learner = json.loads(export.document["payload"])["credentialSubject"]
    assert learner["contactPoint"]["emailAddress"] == {
        "id": "mailto:Bo@example.org",  # as normalised when issued (the domain in lower case)
        "type": "Mailbox",
    }
    assert validate(json.loads(export.document["payload"]))[0]
    without = europass.export_europass(session, demo.master_key, first.uuid)
    assert "contactPoint" not in json.loads(without.document["payload"])["credentialSubject"]


def test_an_award_without_ects_exports_nothing(session: Session, demo: Demo) -> None:
    missing = [s for s in demo.awards if s not in _exportable(session, demo)]
    assert missing, "the demo has micro-credentials without ECTS"
    with pytest.raises(EuropassIncomplete, match="ECTS"):
        europass.export_europass(session, demo.master_key, demo.awards[missing[0]])


def test_an_expired_certificate_at_sealing_time_exports_nothing(
    session: Session, demo: Demo
) -> None:
    slug = _exportable(session, demo)[0]
    record = session.exec(select(SealCertificate)).first()
    assert record is not None
    later = record.not_after + timedelta(days=1)
    with pytest.raises(eseal.SealCertificateExpired):
        europass.export_europass(session, demo.master_key, demo.awards[slug], now=later)


def test_revoked_and_foreign_awards_are_refused(session: Session, demo: Demo) -> None:
    slug = _exportable(session, demo)[0]
    uuid = demo.awards[slug]
    other_org = session.exec(
        select(Issuer.organisation_id).where(
            Issuer.id != issuing.get_credential(session, uuid).issuer_id
        )
    ).first()
    with pytest.raises(NotFound, match="does not exist"):  # not revealed to another provider
        europass.export_europass(session, demo.master_key, uuid, organisation_id=other_org)
    status.change_status(
        session,
        demo.master_key,
        credential_uuid=uuid,
        action="revoke",
        organisation_id=None,
        actor="test",
        base_url=demo.settings.base_url,
    )
    with pytest.raises(Conflict, match="revoked"):
        europass.export_europass(session, demo.master_key, uuid)


def test_the_issuer_is_named_by_the_seal_certificate(session: Session, demo: Demo) -> None:
    slug = _exportable(session, demo)[0]
    document = europass.export_europass(session, demo.master_key, demo.awards[slug]).document
    leaf = _leaf(document)
    issuer = json.loads(document["payload"])["issuer"]
    o = leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    cn = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert list(issuer["legalName"].values()) == [o]
    assert list(issuer["altLabel"].values()) == [cn]
    header = json.loads(_b64url_decode(document["signatures"][0]["protected"]))
    assert header["crit"] == ["b64"] and type(header["iat"]) is int and "sigT" not in header


def test_with_a_tsa_the_export_is_b_t_and_verifies(session: Session, demo: Demo) -> None:
    slug = _exportable(session, demo)[0]
    with running_tsa() as tsa:
        export = europass.export_europass(
            session, demo.master_key, demo.awards[slug], tsa_url=tsa.url
        )
    assert tsa.requests == 1
    document = export.document
    assert "etsiU" in document["signatures"][0]["header"]
    anchors = [_leaf(document), tsa.root]  # the demo's self-signed certificate, trusted here
    report = europass.verify_edc(document, trust_anchors=anchors)
    assert report.valid, report.checks
    assert report.status_of("timestamp") == "ok" and report.status_of("chain") == "ok"
    conforms, _paths, text = validate(json.loads(document["payload"]))
    assert conforms, text


def test_an_unreachable_tsa_exports_nothing(session: Session, demo: Demo) -> None:
    slug = _exportable(session, demo)[0]
    with running_tsa() as gone:
        url = gone.url
    with pytest.raises(europass.TimestampUnavailable, match="could not be time-stamped"):
        europass.export_europass(
            session, demo.master_key, demo.awards[slug], tsa_url=url, tsa_timeout=2
        )


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
