"""Skills a learner proves with the badges they hold: only credentials that verify count, and
only from issuers someone vouches for (a registered provider of this hub, or an issuer in a
configured trust list): an unknown issuer's badge is genuine but proves only what its issuer
says about itself, so it is listed as "not counted: issuer unknown"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from badges.report import Verdict
from badges.verifying import service as verifying
from catalogue.errors import DomainError, InvalidInput

MAX_CREDENTIALS = 20


@dataclass(frozen=True)
class HeldCredential:
    credential_id: str | None
    achievement: str | None
    verdict: str
    skills: list[str] = field(default_factory=list)
    reason: str | None = None  # why it does not count, when it does not
    issuer: str | None = None  # the vouched legal name, else the name the badge gives
    issuer_trust: str | None = None  # registered | listed | unknown | impersonation | unchecked
    counted: bool = False


NOT_COUNTED_UNKNOWN = "not counted: issuer unknown"
TRUSTED = ("registered", "listed")


def proven_skills(
    context: verifying.VerificationContext,
    credentials: Sequence[str | bytes | Mapping[str, Any]],
) -> tuple[list[str], list[HeldCredential]]:
    """The skill IRIs aligned in the held credentials that verify as valid, and per credential
    what it contributed (or why nothing: invalid, indeterminate, or could not be read). All
    the verifications share one time budget (each has its own fetch allowance)."""
    if len(credentials) > MAX_CREDENTIALS:
        raise InvalidInput(f"at most {MAX_CREDENTIALS} credentials at a time")
    # One time budget for the whole request, not one per credential: twenty hostile
    # credentials cost what one may. Once it is spent, the rest are indeterminate at once.
    shared = context.budget()
    iris: dict[str, None] = {}
    held = []
    for credential in credentials:
        try:
            report = verifying.verify(context, credential, budget=shared.same_deadline())
        except DomainError as exc:
            held.append(HeldCredential(None, None, "unreadable", reason=exc.message))
            continue
        summary = report.summary
        skills = [s.url for s in summary.skills if s.url]
        trust = summary.issuer_trust
        standing = trust.standing if trust is not None else None
        counted = report.verdict is Verdict.VALID and standing in TRUSTED
        if counted:
            iris.update(dict.fromkeys(skills))
        first_problem = next(
            (c.message for c in report.checks if c.status.value in ("error", "skipped")), None
        )
        if report.verdict is Verdict.VALID and not counted:
            first_problem = NOT_COUNTED_UNKNOWN
        vouched = trust.legal_name if trust is not None and standing in TRUSTED else None
        held.append(
            HeldCredential(
                summary.credential_id,
                summary.achievement_name,
                report.verdict.value,
                skills if counted else [],
                None if counted else first_problem,
                issuer=vouched or summary.issuer_name,
                issuer_trust=standing,
                counted=counted,
            )
        )
    return list(iris), held
