"""Europass credentials at the verifier: the JAdES seal, the ELM structure and the dates.

Apart from the export (`badges.europass`), which sits above the verifier and re-exports these.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from badges.proofs import jades
from badges.report import (
    Check,
    Recipient,
    Skill,
    Status,
    Summary,
    VerificationReport,
    verdict_of,
)
from openbadges_schemas import elm

ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"


@dataclass
class EdcReport:
    """The verifier's answer for a Europass credential: seal checks plus the credential's own."""

    checks: list[jades.Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    seal: jades.SealReport | None = None

    @property
    def intact(self) -> bool:
        return bool(self.checks) and not any(c.status == "error" for c in self.checks)

    @property
    def valid(self) -> bool:
        """Intact and trusted: a seal not chaining to a trust anchor is not valid."""
        return self.intact and not any(c.indeterminate for c in self.checks)

    def status_of(self, name: str) -> str | None:
        return next((c.status for c in self.checks if c.name == name), None)


def is_edc(document: Any) -> bool:
    """A JAdES-sealed document, an uploadable form, or a bare EuropeanDigitalCredential."""
    if jades.is_jades_document(document):
        return True
    if isinstance(document, dict) and isinstance(document.get("credential"), dict):
        document = document["credential"]
    if not isinstance(document, dict):
        return False
    kinds = document.get("type")
    return kinds == "EuropeanDigitalCredential" or (
        isinstance(kinds, list) and "EuropeanDigitalCredential" in kinds
    )


def verify_edc(
    document: str | bytes | dict[str, Any],
    *,
    trust_anchors: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> EdcReport:
    """Check a Europass credential: its JAdES seal, its ELM structure and its dates."""
    report = EdcReport()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError):
            report.checks.append(jades.Check("format", "error", "not JSON"))
            return report
    if jades.is_jades_document(document):
        seal_report = jades.verify_seal(document, trust_anchors=trust_anchors, now=now)
        report.seal = seal_report
        report.checks.extend(seal_report.checks)
        try:
            credential = json.loads(seal_report.payload or b"")
        except (ValueError, RecursionError):
            report.checks.append(
                jades.Check("structure", "error", "the sealed payload is not JSON")
            )
            return report
    else:
        credential = document.get("credential") if isinstance(document, dict) else None
        credential = credential if isinstance(credential, dict) else document
        report.checks.append(
            jades.Check(
                "seal", "error", "not sealed: an unsealed EDC proves nothing about its issuer"
            )
        )
    if not isinstance(credential, dict):
        report.checks.append(
            jades.Check("structure", "error", "the credential is not a JSON object")
        )
        return report
    report.credential = credential
    try:
        model = elm.EuropeanDigitalCredential.model_validate(credential)
    except ValueError as exc:
        first = str(exc).splitlines()[1:3]
        report.checks.append(
            jades.Check(
                "structure", "error", "not an ELM EuropeanDigitalCredential: " + " ".join(first)
            )
        )
        return report
    if "EuropeanDigitalCredential" not in model.type:
        report.checks.append(
            jades.Check("structure", "error", "type lacks EuropeanDigitalCredential")
        )
        return report
    report.checks.append(jades.Check("structure", "ok", "ELM EuropeanDigitalCredential"))
    _check_validity(report, model, now)
    return report


def _check_validity(report: EdcReport, model: elm.EuropeanDigitalCredential, now: datetime) -> None:
    if model.validFrom > now:
        report.checks.append(
            jades.Check("validity", "error", f"not valid before {model.validFrom:%Y-%m-%d}")
        )
    elif model.validUntil is not None and model.validUntil < now:
        report.checks.append(
            jades.Check("validity", "error", f"expired on {model.validUntil:%Y-%m-%d}")
        )
    else:
        until = f" until {model.validUntil:%Y-%m-%d}" if model.validUntil else ""
        report.checks.append(
            jades.Check("validity", "ok", f"valid from {model.validFrom:%Y-%m-%d}{until}")
        )


def verification_report(report: EdcReport) -> VerificationReport:
    """The EDC checks in the public verifier's report shape, with a summary for people."""
    checks = [Check(c.name, Status(c.status), c.message, c.indeterminate) for c in report.checks]
    credential = report.credential or {}
    subject = credential.get("credentialSubject")
    claim = elm.first(subject.get("hasClaim")) if isinstance(subject, dict) else None
    claim = claim if isinstance(claim, dict) else {}
    spec = claim.get("specifiedBy")
    spec = spec if isinstance(spec, dict) else {}
    skills = [
        Skill(name=_label(skill.get("prefLabel")), url=skill.get("id"), framework="ESCO")
        for outcome in elm.as_list(spec.get("learningOutcome"))
        if isinstance(outcome, dict)
        for skill in elm.as_list(outcome.get("relatedESCOSkill"))
        if isinstance(skill, dict) and str(skill.get("id", "")).startswith(ESCO_SKILL_PREFIX)
    ]
    issuer = credential.get("issuer")
    issuer = issuer if isinstance(issuer, dict) else {}
    summary = Summary(
        credential_id=_text(credential.get("id")),
        credential_name=_label(claim.get("title")),
        credential_type="EuropeanDigitalCredential",
        issuer_id=_text(issuer.get("id")),
        issuer_name=_label(issuer.get("legalName")),
        achievement_name=_label(claim.get("title")),
        achievement_type=_text(spec.get("type")),
        achievement_description=_label(claim.get("description")),
        recipient=Recipient(
            name=_label(subject.get("fullName")) if isinstance(subject, dict) else None
        ),
        skills=skills,
        valid_from=_text(credential.get("validFrom")),
        valid_until=_text(credential.get("validUntil")),
        proof_format="JAdES e-seal (European Digital Credential)" if report.seal else None,
    )
    return VerificationReport(verdict_of(checks), checks, summary)


def _label(value: Any) -> str | None:
    """A language map's English text, else its first text."""
    if isinstance(value, dict) and value:
        text = value.get("en", next(iter(value.values())))
        return _text(text)
    return None


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) else None
