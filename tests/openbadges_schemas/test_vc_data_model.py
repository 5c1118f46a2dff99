"""The VC Data Model MUST rules (openbadges_schemas.vc_data_model), one case per rule."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import pytest

from openbadges_schemas.loader import CREDENTIALS_V2, pinned_bytes
from openbadges_schemas.vc_data_model import (
    PROBLEM_TYPE_BASE,
    credential_problems,
    presentation_problems,
    version_of,
)

V2_SHA256 = hashlib.sha256(pinned_bytes(CREDENTIALS_V2)).digest()
V2_SHA384 = hashlib.sha384(pinned_bytes(CREDENTIALS_V2)).digest()
V2_SRI = "sha384-" + base64.b64encode(V2_SHA384).decode()
# Multibase base64url of the multihash sha2-256 (0x12, 32 bytes): VC DM 2.0 example 26's form.
V2_MULTIBASE = "u" + base64.urlsafe_b64encode(b"\x12\x20" + V2_SHA256).decode().rstrip("=")


def vc2(**changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:2f0e1c1a-8f5f-4c2f-9d71-0c2b5c1e4a11",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": {"id": "did:example:issuer", "name": "Example"},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00+01:00",
        "credentialSubject": {"id": "did:example:learner", "skill": "welding"},
        "relatedResource": [{"id": CREDENTIALS_V2, "digestSRI": V2_SRI}],
    }
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not DROP}


DROP = object()


def rules(document: Any) -> list[tuple[str, str]]:
    return [(p.rule.title, p.path) for p in credential_problems(document)]


def test_a_conforming_credential_has_no_problem() -> None:
    assert credential_problems(vc2()) == []
    assert (
        credential_problems(
            vc2(relatedResource={"id": "https://x.example/a", "digestMultibase": V2_MULTIBASE})
        )
        == []
    )
    # The §4.9 rule compares instants, not strings: equal instants in two zones are fine.
    assert (
        credential_problems(
            vc2(validFrom="2026-01-01T01:00:00+01:00", validUntil="2026-01-01T00:00:00Z")
        )
        == []
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # §4.3: the VC 2.0 base context first; the others URLs or objects.
        (
            {"@context": ["https://www.w3.org/ns/credentials/examples/v2"]},
            ("§4.3 Contexts", "/@context/0"),
        ),
        ({"@context": [CREDENTIALS_V2, "https ://not-a-url/v1"]}, ("§4.3 Contexts", "/@context/1")),
        ({"@context": [CREDENTIALS_V2, 4]}, ("§4.3 Contexts", "/@context/1")),
        ({"@context": DROP}, ("§4.3 Contexts", "/@context")),
        ({"id": "not a url"}, ("§4.4 Identifiers", "/id")),
        # §4.5: type with VerifiableCredential.
        ({"type": ["ExampleCredential"]}, ("§4.5 Types", "/type")),
        ({"type": DROP}, ("§4.5 Types", "/type")),
        ({"type": [4]}, ("§4.5 Types", "/type")),
        ({"name": 4}, ("§4.6 Names and Descriptions", "/name")),
        # §4.7: an issuer, never null.
        ({"issuer": None}, ("§4.7 Issuer", "/issuer")),
        ({"issuer": DROP}, ("§4.7 Issuer", "/issuer")),
        ({"issuer": {"name": "no id"}}, ("§4.4 Identifiers", "/issuer/id")),
        # §4.8: a non-empty credentialSubject.
        ({"credentialSubject": DROP}, ("§4.8 Credential Subject", "/credentialSubject")),
        ({"credentialSubject": {}}, ("§4.8 Credential Subject", "/credentialSubject")),
        ({"credentialSubject": []}, ("§4.8 Credential Subject", "/credentialSubject")),
        (
            {"credentialSubject": "did:example:1234"},
            ("§4.8 Credential Subject", "/credentialSubject"),
        ),
        # §4.9: dateTimeStamp values, in order.
        ({"validFrom": "Sat 25 Feb 2023 07:16:31 PM CST"}, ("§4.9 Validity Period", "/validFrom")),
        ({"validUntil": "2027-01-01T00:00:00"}, ("§4.9 Validity Period", "/validUntil")),
        ({"validFrom": "2026-13-01T00:00:00Z"}, ("§4.9 Validity Period", "/validFrom")),
        ({"validUntil": "2025-12-31T23:59:59Z"}, ("§4.9 Validity Period", "/validUntil")),
        # §4.10, §4.11, §5.4-5.6: these objects need a type.
        (
            {"credentialStatus": {"id": "https://s.example/1#3"}},
            ("§4.10 Status", "/credentialStatus"),
        ),
        (
            {"credentialSchema": [{"id": "https://s.example/schema.json"}]},
            ("§4.11 Data Schemas", "/credentialSchema/0"),
        ),
        (
            {"credentialSchema": {"type": "JsonSchema"}},
            ("§4.4 Identifiers", "/credentialSchema/id"),
        ),
        ({"refreshService": {"url": "https://r.example"}}, ("§5.4 Refreshing", "/refreshService")),
        ({"termsOfUse": [{"id": "https://t.example/1"}]}, ("§5.5 Terms of Use", "/termsOfUse/0")),
        (
            {"evidence": [{"id": "https://e.example/1", "name": "x"}]},
            ("§5.6 Evidence", "/evidence/0"),
        ),
        # §5.3: relatedResource with an id and a well-formed digest.
        (
            {"relatedResource": [{"id": CREDENTIALS_V2}]},
            ("§5.3 Integrity of Related Resources", "/relatedResource/0"),
        ),
        (
            {"relatedResource": [{"digestSRI": V2_SRI}]},
            ("§4.4 Identifiers", "/relatedResource/0/id"),
        ),
        (
            {"relatedResource": [{"id": CREDENTIALS_V2, "digestSRI": "sha384-" + V2_SRI[8:]}]},
            ("§5.3 Integrity of Related Resources", "/relatedResource/0/digestSRI"),
        ),
        (
            {"relatedResource": [{"id": CREDENTIALS_V2, "digestSRI": "md5-xyz"}]},
            ("§5.3 Integrity of Related Resources", "/relatedResource/0/digestSRI"),
        ),
        (
            {"relatedResource": [{"id": CREDENTIALS_V2, "digestMultibase": V2_MULTIBASE[:-4]}]},
            ("§5.3 Integrity of Related Resources", "/relatedResource/0/digestMultibase"),
        ),
        (
            {
                "relatedResource": [
                    {"id": CREDENTIALS_V2, "digestMultibase": "x" + V2_MULTIBASE[1:]}
                ]
            },
            ("§5.3 Integrity of Related Resources", "/relatedResource/0/digestMultibase"),
        ),
        (
            {
                "relatedResource": [
                    {"id": CREDENTIALS_V2, "digestSRI": V2_SRI},
                    {"id": CREDENTIALS_V2, "digestSRI": V2_SRI},
                ]
            },
            ("§5.3 Integrity of Related Resources", "/relatedResource/1/id"),
        ),
    ],
)
def test_each_rule_is_named(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    section, path = expected
    assert (f"VC DM 2.0 {section}", path) in rules(vc2(**changes))


def test_a_problem_is_rfc_9457_problem_details() -> None:
    (problem,) = credential_problems(vc2(issuer=None))
    details = problem.as_problem_details()
    assert details["type"] == PROBLEM_TYPE_BASE + "MALFORMED_VALUE_ERROR"
    assert details["title"] == "MALFORMED_VALUE_ERROR"
    assert details["detail"].startswith("VC DM 2.0 §4.7 Issuer: /issuer:")
    assert details["ruleUrl"] == "https://www.w3.org/TR/vc-data-model-2.0/#issuer"
    (order,) = credential_problems(vc2(validUntil="2025-01-01T00:00:00Z"))
    assert order.kind == "RANGE_ERROR"
    (parsing,) = credential_problems('{"@context": []}')
    assert parsing.kind == "PARSING_ERROR" and parsing.path == ""


def test_vc_1_1_has_its_own_rules() -> None:
    v1 = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "issuanceDate": "2010-01-01T19:23:24Z",
        "expirationDate": "2030-01-01T00:00:00",  # VC 1.1: a dateTime, the zone optional
        "credentialSubject": {"id": "did:example:learner"},
    }
    assert version_of(v1) == "1.1" and credential_problems(v1) == []
    missing = {k: v for k, v in v1.items() if k != "issuanceDate"}
    assert rules(missing) == [("VC DM 1.1 §4.6-4.7 Issuance Date and Expiration", "/issuanceDate")]
    no_id = copy.deepcopy(v1) | {"credentialStatus": {"type": "StatusList2021Entry"}}
    assert rules(no_id) == [("VC DM 1.1 §4.2 Identifiers", "/credentialStatus/id")]


def test_presentations() -> None:
    vp = {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiablePresentation"],
        "holder": "did:example:h",
    }
    assert presentation_problems(vp) == []
    assert [p.path for p in presentation_problems(vp | {"type": ["VerifiableCredential"]})] == [
        "/type"
    ]
    assert [p.path for p in presentation_problems(vp | {"holder": {"name": "x"}})] == ["/holder/id"]
    carried = vp | {"verifiableCredential": [vc2(), "a JSON string"]}
    assert [p.path for p in presentation_problems(carried)] == ["/verifiableCredential/1"]
    no_context = {k: v for k, v in vp.items() if k != "@context"}
    assert [p.path for p in presentation_problems(no_context)] == ["/@context"]
