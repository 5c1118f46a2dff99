"""The public verifier recognises Europass credentials sealed with JAdES."""

from __future__ import annotations

import json

import pytest

from badges import verifying
from badges.report import Status, Verdict
from tests.support.present import check_of
from tests.support.reference import reference

SIGNED = ("Sample-MC-Annex1-signed.jsonld", "Sample-CertOfPart-signed.jsonld")


@pytest.mark.parametrize("name", SIGNED)
def test_official_sealed_samples_are_intact_but_not_trusted(name: str) -> None:
    raw = reference("elm", "samples", "official", name).read_bytes()
    report = verifying.verify(None, raw)

    # No trust anchor configured: the Commission's TEST seal chains to nothing we trust, so
    # the verdict is indeterminate (never valid), yet nothing failed.
    assert report.verdict is Verdict.INDETERMINATE, report.errors
    assert not report.errors
    assert check_of(report, "signature").status is Status.OK
    assert check_of(report, "chain").indeterminate
    # Expired since, but their signature timestamp proves it was sealed while valid.
    assert check_of(report, "timestamp").status is Status.WARNING
    assert check_of(report, "certificate-expiry").status is Status.OK
    assert check_of(report, "qualified").status is Status.SKIPPED
    assert check_of(report, "structure").status is Status.OK
    assert report.summary.credential_type == "EuropeanDigitalCredential"
    assert report.summary.recipient.name == "Ana Andromeda"
    assert report.summary.issuer_name


def test_a_changed_byte_makes_the_official_sample_invalid() -> None:
    raw = reference("elm", "samples", "official", SIGNED[0]).read_bytes()
    at = raw.index(b"Andromeda")
    report = verifying.verify(None, raw[:at] + b"X" + raw[at + 1 :])
    assert report.verdict is Verdict.INVALID
    assert check_of(report, "signature").status is Status.ERROR


def test_an_unsealed_edc_is_recognised_but_not_valid() -> None:
    raw = reference("elm", "samples", "official", "Sample-MC-Annex1-unsigned.jsonld").read_text()
    report = verifying.verify(None, json.loads(raw))
    assert report.verdict is Verdict.INVALID
    assert check_of(report, "seal").status is Status.ERROR
    assert check_of(report, "structure").status is Status.OK


def test_a_deeply_nested_payload_is_an_error_not_a_crash() -> None:
    document = {"payload": "[" * 100_000, "signatures": [{"protected": "e30", "signature": ""}]}
    report = verifying.verify(None, document)
    assert report.verdict is Verdict.INVALID
