"""The verification report: one entry per check, a verdict, and a summary for people."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    WARNING = "warning"
    SKIPPED = "skipped"


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Check:
    """One step of the verification algorithm.

    `indeterminate` marks a step that could not be completed (a key that cannot be fetched,
    a status list offline): it makes the verdict indeterminate unless another step failed.
    """

    id: str
    status: Status
    message: str
    indeterminate: bool = False

    @classmethod
    def ok(cls, id_: str, message: str) -> Check:
        return cls(id_, Status.OK, message)

    @classmethod
    def error(cls, id_: str, message: str) -> Check:
        return cls(id_, Status.ERROR, message)

    @classmethod
    def warning(cls, id_: str, message: str) -> Check:
        return cls(id_, Status.WARNING, message)

    @classmethod
    def skipped(cls, id_: str, message: str, *, indeterminate: bool = False) -> Check:
        return cls(id_, Status.SKIPPED, message, indeterminate)


def verdict_of(checks: list[Check]) -> Verdict:
    if any(check.status is Status.ERROR for check in checks):
        return Verdict.INVALID
    if any(check.indeterminate for check in checks):
        return Verdict.INDETERMINATE
    return Verdict.VALID


@dataclass(frozen=True)
class Skill:
    name: str | None
    url: str | None  # http(s) only: anything else is not shown as a link
    framework: str | None = None
    code: str | None = None
    catalogue_label: str | None = None  # our catalogue's label when it has the skill
    level: str | None = None  # awareness | practitioner | expert, for a badge of this hub


@dataclass(frozen=True)
class Recipient:
    id: str | None = None  # a DID or URL; never an e-mail address
    name: str | None = None
    identifier_types: list[str] = field(default_factory=list)
    email: str | None = None  # only the address the verifier typed, once it matched


@dataclass(frozen=True)
class IssuerTrust:
    """Who vouches for the issuer (the `issuer_trust` check), for people to read.

    standing: "registered" (one of this hub's providers), "listed" (in a configured trust
    list), "unknown" (nobody vouches: the name is the issuer's own say), "impersonation"
    (it claims what only a registered provider may: `legal_name` is the one it imitates),
    or "unchecked" (the signature does not tie the badge to its issuer)."""

    standing: str
    legal_name: str | None = None
    country: str | None = None
    location: str | None = None
    accreditation: str | None = None
    source: str | None = None  # the trust list's name
    organisation_url: str | None = None  # the registered provider's page on this hub
    claimed_name: str | None = None  # the name the badge gives its issuer


@dataclass(frozen=True)
class CredentialState:
    """Revoked or suspended, as the status check found it; when and why for our own badges."""

    state: str  # "revoked" | "suspended"
    since: str | None = None  # ISO 8601
    reason: str | None = None


@dataclass(frozen=True)
class MicroCredentialFacts:
    """The EU micro-credential elements of a badge this hub's catalogue describes."""

    title: str
    url: str
    workload_hours: float | None = None
    ects: float | None = None
    eqf_level: int | None = None
    assessment: str | None = None
    mode: str | None = None
    quality_assurance: str | None = None


@dataclass(frozen=True)
class Summary:
    credential_id: str | None = None
    credential_name: str | None = None
    credential_type: str | None = None
    credential_kind: str | None = None  # "Open Badges 3.0 credential (VC Data Model 2.0)", …
    issuer_id: str | None = None
    issuer_name: str | None = None
    achievement_name: str | None = None
    achievement_id: str | None = None
    achievement_type: str | None = None
    achievement_description: str | None = None
    recipient: Recipient = field(default_factory=Recipient)
    skills: list[Skill] = field(default_factory=list)
    valid_from: str | None = None
    valid_until: str | None = None
    proof_format: str | None = None
    issuer_trust: IssuerTrust | None = None
    state: CredentialState | None = None
    micro_credential: MicroCredentialFacts | None = None


@dataclass(frozen=True)
class VerificationReport:
    verdict: Verdict
    checks: list[Check]
    summary: Summary
    endorsements: list[VerificationReport] = field(default_factory=list)

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.ERROR]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.WARNING]

    @property
    def unresolved(self) -> list[Check]:
        return [c for c in self.checks if c.indeterminate]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "checks": [_plain(check) for check in self.checks],
            "summary": _plain(self.summary),
            "endorsements": [report.to_json() for report in self.endorsements],
        }


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """`dataclasses.asdict` without its deep copy of every leaf (a report is built for this
    one answer, and asdict was a tenth of a verification request's time)."""
    kind = type(value)
    if hasattr(kind, "__dataclass_fields__"):
        names = _FIELD_NAMES.get(kind)
        if names is None:
            names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


# Alignments to frameworks that are not skills: the EQF level, the ISCED-F field and the
# outcome statements (issue 18). Every other alignment is read as a skill, as before.
NON_SKILL_TARGET_TYPES = frozenset({"ext:EQFLevel", "ext:ISCEDF", "ext:LearningOutcome"})


def is_skill_alignment(alignment: Mapping[str, Any]) -> bool:
    return alignment.get("targetType") not in NON_SKILL_TARGET_TYPES
