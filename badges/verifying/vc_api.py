"""The W3C VC-API face of the verifier: what a request may carry, and the result shape.

Input: `verifiableCredential` is a JSON object (a credential secured by an embedded proof),
a compact JWS (VC-JWT), or an `EnvelopedVerifiableCredential` whose id is a
`data:application/vc+jwt,` URL. A credential given as JSON *text* is refused: Data
Integrity secures a map (VC Data Integrity 1.0 §4.4 step 2), and text that parses to one is
not what was signed.

Result: `{verified, checks, warnings, errors}` as VC-API (and VC DM 2.0 §7.1) describe it,
warnings and errors as RFC 9457 problem details, plus our full report under `report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badges.report import Check, Status, VerificationReport
from badges.verifying.input import UnrecognisedInput, compact_jws
from openbadges_schemas.vc_data_model import (
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    PROBLEM_TYPE_BASE,
)

CRYPTOGRAPHIC_SECURITY_ERROR = "CRYPTOGRAPHIC_SECURITY_ERROR"
_STATUS_LIST_BASE = "https://www.w3.org/ns/credentials/status-list#"
_ENVELOPED_JWT = "data:application/vc+jwt,"
# Check id -> the VC DM 2.0 §7.2 problem type that fits it; other checks (validity dates,
# recipient, endorsements) are about the claims, not the document: "about:blank" (RFC 9457).
_PROBLEM_TYPES = {
    "format": PARSING_ERROR,
    "jsonld": MALFORMED_VALUE_ERROR,
    "vc_data_model": MALFORMED_VALUE_ERROR,
    "structure": MALFORMED_VALUE_ERROR,
    "proof": CRYPTOGRAPHIC_SECURITY_ERROR,
    "issuer_key": CRYPTOGRAPHIC_SECURITY_ERROR,
    "holder_key": CRYPTOGRAPHIC_SECURITY_ERROR,
    "jwt_claims": CRYPTOGRAPHIC_SECURITY_ERROR,
}


def credential_input(value: Any, name: str) -> dict[str, Any] | bytes:
    """A credential given inside a JSON request body: the object, or a VC-JWT as bytes."""
    if isinstance(value, Mapping):
        token = _enveloped_jwt(value)
        return token.encode() if token is not None else dict(value)
    if isinstance(value, str):
        if value.lstrip().startswith(("{", "[")):
            raise UnrecognisedInput(
                f"{name} must be a JSON object, not JSON text in a string: Data Integrity "
                "secures a JSON object, and a string is not what was signed"
            )
        if compact_jws(value) is not None:
            return value.strip().encode()
    raise UnrecognisedInput(f"{name} must be a JSON object or a compact JWS")


def _enveloped_jwt(value: Mapping[str, Any]) -> str | None:
    kinds = value.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "EnvelopedVerifiableCredential" not in kinds:
        return None
    target = value.get("id")
    if not isinstance(target, str) or not target.startswith(_ENVELOPED_JWT):
        raise UnrecognisedInput(
            "an EnvelopedVerifiableCredential must carry a data:application/vc+jwt, URL"
        )
    return target.removeprefix(_ENVELOPED_JWT)


def problem_details(check: Check) -> dict[str, Any]:
    """RFC 9457 problem details for a check that failed, warned or could not complete."""
    if check.id == "status":
        kind = "STATUS_RETRIEVAL_ERROR" if check.indeterminate else "STATUS_VERIFICATION_ERROR"
        problem_type = _STATUS_LIST_BASE + kind
    elif check.id in _PROBLEM_TYPES:
        kind = _PROBLEM_TYPES[check.id]
        problem_type = PROBLEM_TYPE_BASE + kind
    else:
        kind, problem_type = check.id, "about:blank"
    return {"type": problem_type, "title": kind, "detail": check.message, "check": check.id}


def result(report: VerificationReport) -> dict[str, Any]:
    """`{verified, checks, warnings, errors}` and the full report (`verdict`, `report`)."""
    failing = [*report.errors, *[c for c in report.unresolved if c.status is not Status.ERROR]]
    return {
        "verified": report.verdict.value == "valid",
        "checks": [c.id for c in report.checks if c.status is Status.OK],
        "warnings": [problem_details(c) for c in report.warnings],
        "errors": [problem_details(c) for c in failing],
        "verdict": report.verdict.value,
        "report": report.to_json(),
    }
