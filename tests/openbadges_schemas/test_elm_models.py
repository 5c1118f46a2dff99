"""ELM models: every official and constructed EDC sample parses and dumps back unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from openbadges_schemas.elm import (
    EDC_CONTEXTS,
    SPECIFICATION_TYPES,
    EuropeanDigitalCredential,
    LearningAchievement,
    as_list,
)
from tests.support.reference import reference

UNSIGNED = [
    ("official", "Sample-MC-Annex1-unsigned.jsonld"),
    ("official", "Sample-CertOfPart-unsigned.jsonld"),
    ("constructed", "minimal-edc-skeleton.json"),
    ("constructed", "microcredential-annex1-skeleton.json"),
]
SIGNED = ["Sample-MC-Annex1-signed.jsonld", "Sample-CertOfPart-signed.jsonld"]


def _samples() -> list[tuple[str, dict]]:
    docs = [
        (name, json.loads(reference("elm", "samples", kind, name).read_text()))
        for kind, name in UNSIGNED
    ]
    for name in SIGNED:
        sealed = json.loads(reference("elm", "samples", "official", name).read_text())
        docs.append((name, json.loads(sealed["payload"])))
    uploadable = reference(
        "elm", "samples", "official", "Sample-MC-Annex1-unsigned-uploadable.json"
    )
    docs.append((uploadable.name, json.loads(uploadable.read_text())["credential"]))
    return docs


def test_every_sample_round_trips_unchanged() -> None:
    for name, document in _samples():
        model = EuropeanDigitalCredential.model_validate(document)
        assert model.dump() == document, name


def test_the_annex1_sample_is_read_into_typed_parts() -> None:
    document = json.loads(
        reference("elm", "samples", "official", "Sample-MC-Annex1-unsigned.jsonld").read_text()
    )
    model = EuropeanDigitalCredential.model_validate(document)
    # Not elm.first(): mypy joins the union of claim types to ElmModel when inferring its T.
    claims = model.credentialSubject.hasClaim
    claim = claims[0] if isinstance(claims, list) else claims
    assert isinstance(claim, LearningAchievement)
    spec = claim.specifiedBy
    assert spec is not None and spec.type in SPECIFICATION_TYPES
    assert spec.eqfLevel is not None and spec.eqfLevel.id == "http://data.europa.eu/snb/eqf/6"
    assert [c.point for c in as_list(spec.creditPoint)] == ["2"]
    assert model.context == list(EDC_CONTEXTS)


@pytest.mark.parametrize(
    "field", ["credentialSubject", "issuer", "displayParameter", "validFrom", "credentialProfiles"]
)
def test_a_missing_mandatory_part_is_refused(field: str) -> None:
    document = json.loads(
        reference("elm", "samples", "constructed", "minimal-edc-skeleton.json").read_text()
    )
    del document[field]
    with pytest.raises(ValidationError):
        EuropeanDigitalCredential.model_validate(document)


def test_dates_dump_as_xsd_datetimes() -> None:
    document = json.loads(
        reference("elm", "samples", "constructed", "minimal-edc-skeleton.json").read_text()
    )
    model = EuropeanDigitalCredential.model_validate(document)
    model.issued = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    model.validUntil = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    dumped = model.dump()
    assert dumped["issued"] == "2025-03-01T09:30:00Z"
    assert dumped["validUntil"] == "2026-03-01T09:30:00+02:00"
