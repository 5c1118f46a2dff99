"""JAdES-B-LT: with a TSA and the chain's CRL at hand, the seal carries the certificate values
and the CRL (etsiU xVals / rVals); our verifier checks them from the seal alone. Else B-T, and
the export says why. A local CA serves its CRL over HTTP from the test itself."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from sqlmodel import Session, select

from badges import europass
from badges.proofs import jades, revocation
from badges.proofs.timestamps import timestamper
from catalogue.models import Course, MicroCredential, Organisation
from keys import eseal
from keys.signer import ESealSigner
from skillshub.verifier import seal_revocation
from tests.badges.europass import test_europass_export as export_tests
from tests.badges.europass.test_europass_export import Demo, _exportable
from tests.support.crl_ca import LocalCa, serving_crl
from tests.support.present import one
from tests.support.tsa import running_tsa

demo = export_tests.demo  # the demo hub with an award of each micro-credential


def _items(document: dict) -> list[dict]:
    return [
        json.loads(base64.urlsafe_b64decode(i + "=" * (-len(i) % 4)))
        for i in document["signatures"][0]["header"]["etsiU"]
    ]


def _with_seal_of(session: Session, demo: Demo, ca: LocalCa, crl_url: str | None = None) -> str:
    """An exportable award whose provider seals with a certificate of `ca`."""
    slug = _exportable(session, demo)[0]
    mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).one()
    course = one(session, Course, mc.course_id)
    org = one(session, Organisation, course.organisation_id)
    leaf, key = ca.seal_certificate(crl_url=crl_url)
    eseal.import_certificate(session, demo.master_key, org, leaf, key, [ca.root])
    session.flush()
    return demo.awards[slug]


def _export(session: Session, demo: Demo, award: str, tsa_url: str) -> europass.EuropassExport:
    settings = demo.settings.model_copy(update={"allow_http_localhost": True})
    seal = seal_revocation(settings)
    return europass.export_europass(
        session,
        demo.master_key,
        award,
        tsa_url=tsa_url,
        revocation_fetch=seal.fetch,
        trust_anchors=seal.trust_anchors,
    )


def test_with_the_crl_at_hand_the_seal_is_b_lt_and_verifies_from_itself(
    session: Session, demo: Demo
) -> None:
    with serving_crl() as ca, running_tsa() as tsa:
        award = _with_seal_of(session, demo, ca)
        export = _export(session, demo, award, tsa.url)
        assert ca.requests == 1
    assert export.level == "B-LT" and not any("B-LT" in n for n in export.notes)
    sig_tst, x_vals, r_vals = _items(export.document)
    assert set(sig_tst) == {"sigTst"}
    [cert] = x_vals["xVals"]
    assert x509.load_der_x509_certificate(base64.b64decode(cert["x509Cert"]["val"])) == ca.root
    [crl] = r_vals["rVals"]["crlVals"]
    assert x509.load_der_x509_crl(base64.b64decode(crl["val"])).issuer == ca.root.subject

    # Both servers are gone: the verifier needs nothing but the seal and the anchors.
    report = europass.verify_edc(export.document, trust_anchors=[ca.root, tsa.root])
    assert report.valid, report.checks
    assert report.seal is not None and report.seal.level == "B-LT"
    assert report.status_of("revocation") == "ok"
    # Without the anchors the CRL still vouches for the leaf; the chain is what is not trusted.
    untrusted = europass.verify_edc(export.document)
    assert untrusted.status_of("revocation") == "ok" and not untrusted.valid


def test_a_revoked_seal_certificate_seals_nothing(session: Session, demo: Demo) -> None:
    with serving_crl() as ca, running_tsa() as tsa:
        award = _with_seal_of(session, demo, ca)
        opened = eseal.open_seal(session, demo.master_key, _org_id(session, award))
        assert opened is not None
        ca.revoked[opened.chain[0].serial_number] = datetime.now(UTC) - timedelta(days=1)
        with pytest.raises(eseal.SealCertificateError, match="revoked"):
            _export(session, demo, award, tsa.url)
        assert tsa.requests == 0  # refused before anything was signed or time-stamped


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("no-distribution-point", "names no CRL distribution point"),
        ("server-gone", "no usable CRL"),
        ("outdated", "outdated"),
        ("html", "unexpected content type"),
    ],
)
def test_without_usable_revocation_data_the_seal_stays_b_t_and_says_why(
    session: Session, demo: Demo, setup: str, reason: str
) -> None:
    media_type = "text/html" if setup == "html" else "application/pkix-crl"
    with serving_crl(media_type=media_type) as ca, running_tsa() as tsa:
        if setup == "outdated":
            ca.next_update = timedelta(minutes=-1)
        crl_url = "" if setup == "no-distribution-point" else None
        award = _with_seal_of(session, demo, ca, crl_url=crl_url)
        if setup == "server-gone":
            with serving_crl() as gone:
                dead = gone.url
            award = _with_seal_of(session, demo, ca, crl_url=dead)
        export = _export(session, demo, award, tsa.url)
    assert export.level == "B-T"
    assert any(n.startswith("Sealed at JAdES-B-T, not B-LT") and reason in n for n in export.notes)
    assert [set(i) for i in _items(export.document)] == [{"sigTst"}]
    report = europass.verify_edc(export.document, trust_anchors=[ca.root, tsa.root])
    assert report.valid and report.seal is not None and report.seal.level == "B-T"


def test_the_revocation_setting_off_keeps_b_t(session: Session, demo: Demo) -> None:
    settings = demo.settings.model_copy(update={"seal_revocation": False})
    assert seal_revocation(settings).fetch is None


def _org_id(session: Session, award: str) -> int:
    from badges.issuing import get_credential

    record = get_credential(session, award)
    mc = one(session, MicroCredential, record.micro_credential_id)
    course = one(session, Course, mc.course_id)
    return course.organisation_id


# --- the verifier on crafted seals (no database) -------------------------------------------


def _signer(ca: LocalCa) -> ESealSigner:
    leaf, key = ca.seal_certificate(crl_url="http://crl.example/ca.crl")
    return ESealSigner(key, [leaf, ca.root])


def test_a_certificate_revoked_before_the_timestamp_is_an_error() -> None:
    ca = LocalCa.create()
    signer = _signer(ca)
    ca.revoked[signer.chain[0].serial_number] = datetime.now(UTC) - timedelta(hours=1)
    crl = revocation.load_crl(ca.crl())
    data = revocation.ValidationData([ca.root], [crl])
    with running_tsa() as tsa:
        document = jades.seal(b"{}", signer, timestamper=timestamper(tsa.url), validation_data=data)
    report = jades.verify_seal(document, trust_anchors=[ca.root, tsa.root])
    assert report.status_of("revocation") == "error" and not report.valid
    assert any("was revoked on" in c.message for c in report.checks)


def test_embedded_values_that_do_not_parse_or_vouch_are_reported() -> None:
    ca, other = LocalCa.create(), LocalCa.create()
    signer = _signer(ca)
    foreign = revocation.ValidationData([other.root], [revocation.load_crl(other.crl())])
    with running_tsa() as tsa:
        document = jades.seal(
            b"{}", signer, timestamper=timestamper(tsa.url), validation_data=foreign
        )
    report = jades.verify_seal(document, trust_anchors=[ca.root, tsa.root])
    assert report.status_of("revocation") == "warning" and report.level == "B-T"
    entry = document["signatures"][0]
    garbage = base64.urlsafe_b64encode(
        json.dumps({"rVals": {"crlVals": [{"val": "bm90IGEgY3Js"}]}}).encode()
    ).rstrip(b"=")
    entry["header"]["etsiU"].append(garbage.decode())
    worse = jades.verify_seal(document, trust_anchors=[ca.root, tsa.root])
    assert worse.status_of("revocation") == "error"


def test_validation_data_without_a_timestamp_is_refused() -> None:
    ca = LocalCa.create()
    data = revocation.ValidationData([ca.root], [revocation.load_crl(ca.crl())])
    with pytest.raises(jades.SealError, match="timestamp"):
        jades.seal(b"{}", _signer(ca), validation_data=data)


def test_a_crl_pinned_by_configuration_gives_b_lt_without_fetching(
    session: Session, demo: Demo, tmp_path
) -> None:
    """An air-gapped signer: the CRL URL mapped to a local file in SKILLSHUB_PINNED_DOCUMENTS."""
    ca = LocalCa.create()
    url = "http://crl.qtsp.example/ca.crl"  # no such host: only the pinned copy can answer
    (tmp_path / "ca.crl").write_bytes(ca.crl())
    (tmp_path / "pinned.json").write_text(json.dumps({url: "ca.crl"}))
    award = _with_seal_of(session, demo, ca, crl_url=url)
    settings = demo.settings.model_copy(
        update={"pinned_documents": tmp_path / "pinned.json", "fetch_offline": True}
    )
    seal = seal_revocation(settings)
    with running_tsa() as tsa:
        export = europass.export_europass(
            session, demo.master_key, award, tsa_url=tsa.url, revocation_fetch=seal.fetch
        )
    assert export.level == "B-LT"
    report = europass.verify_edc(export.document, trust_anchors=[ca.root, tsa.root])
    assert report.valid and report.seal is not None and report.seal.level == "B-LT"
