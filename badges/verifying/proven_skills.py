"""Skills a learner proves with the badges they hold: only credentials that verify count."""

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


def proven_skills(
    context: verifying.VerificationContext, credentials: Sequence[str | Mapping[str, Any]]
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
        valid = report.verdict is Verdict.VALID
        if valid:
            iris.update(dict.fromkeys(skills))
        first_problem = next(
            (c.message for c in report.checks if c.status.value in ("error", "skipped")), None
        )
        held.append(
            HeldCredential(
                summary.credential_id,
                summary.achievement_name,
                report.verdict.value,
                skills if valid else [],
                None if valid else first_problem,
            )
        )
    return list(iris), held
