"""Verifiable Presentations (VC DM 2.0 §4.13) with a Data Integrity proof, and every credential
they carry (VC-API `POST /presentations/verify`).

The presentation's own checks: the data model, JSON-LD safe mode, its proof(s) (purpose
`authentication`; the verifier's `challenge` and `domain`, when given, must be the proof's),
and whose key made them (the `holder`'s, when the presentation names one). Then each credential
is verified as `/credentials/verify` would, within the same budget. The verdict is the worst of
the presentation's and its credentials'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from badges.proofs.canonicalize import CanonicalizationError, Canonicalizer
from badges.proofs.data_integrity import without_proof
from badges.report import Check, Status, Verdict, VerificationReport, verdict_of
from badges.verifying.budget import Budget, BudgetedFetcher, BudgetExceeded, paced
from badges.verifying.input import TooComplex, UnrecognisedInput, check_json_shape
from badges.verifying.proofs import Expected, ProofOutcome, verify_embedded
from badges.verifying.resolving import AUTHENTICATION, KeyResolver
from badges.verifying.service import VerificationContext, verify
from badges.verifying.vc_api import credential_input, problem_details
from openbadges_schemas.loader import UnknownContextError
from openbadges_schemas.vc_data_model import presentation_problems

HOLDER_KEY = "holder_key"
MAX_CREDENTIALS = 16


@dataclass(frozen=True)
class PresentationReport:
    verdict: Verdict
    checks: list[Check]
    credentials: list[VerificationReport] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "checks": [
                {
                    "id": c.id,
                    "status": c.status.value,
                    "message": c.message,
                    "indeterminate": c.indeterminate,
                }
                for c in self.checks
            ],
            "credentials": [report.to_json() for report in self.credentials],
        }

    def vc_api_result(self) -> dict[str, Any]:
        """VC-API `{verified, checks, warnings, errors}` over the presentation and its
        credentials (a credential's problem names its index), with the full report."""
        warnings = [problem_details(c) for c in self.checks if c.status is Status.WARNING]
        errors = [problem_details(c) for c in self.checks if _failing(c)]
        for index, report in enumerate(self.credentials):
            where = {"credential": index}
            warnings += [problem_details(c) | where for c in report.warnings]
            errors += [problem_details(c) | where for c in report.checks if _failing(c)]
        return {
            "verified": self.verdict is Verdict.VALID,
            "checks": [c.id for c in self.checks if c.status is Status.OK],
            "warnings": warnings,
            "errors": errors,
            "verdict": self.verdict.value,
            "report": self.to_json(),
        }


def _failing(check: Check) -> bool:
    return check.status is Status.ERROR or check.indeterminate


def verify_presentation(
    context: VerificationContext,
    presentation: Any,
    *,
    challenge: str | None = None,
    domain: str | list[str] | None = None,
) -> PresentationReport:
    """Verify a presentation (a JSON object) and the credentials it carries."""
    if not isinstance(presentation, Mapping):
        raise UnrecognisedInput(
            "verifiablePresentation must be a JSON object (a presentation given as JSON text "
            "is refused: Data Integrity secures a JSON object)"
        )
    check_json_shape(presentation, context.limits)
    budget = context.budget()
    checks: list[Check] = []
    try:
        checks.append(_data_model(presentation))
        outcome = _proof(context, budget, presentation, Expected(AUTHENTICATION, challenge, domain))
        checks.append(_jsonld(context, budget, presentation, outcome))
        checks.extend([outcome.proof, _holder(presentation, outcome)])
        reports = [
            verify(context, item, budget=budget) for item in _credentials(presentation, checks)
        ]
    except BudgetExceeded as exc:
        checks.append(Check.skipped("budget", exc.message, indeterminate=True))
        return PresentationReport(verdict_of(checks), checks)
    worst = verdict_of([*checks, *(_as_check(r) for r in reports)])
    return PresentationReport(worst, checks, reports)


def _data_model(presentation: Mapping[str, Any]) -> Check:
    problems = presentation_problems(presentation)
    if not problems:
        return Check.ok("vc_data_model", "a conforming verifiable presentation")
    return Check.error(
        "vc_data_model", "not a conforming presentation: " + "; ".join(map(str, problems[:5]))
    )


def _tools(context: VerificationContext, budget: Budget) -> tuple[KeyResolver, Canonicalizer]:
    fetcher = BudgetedFetcher(context.fetcher, budget)
    resolver = KeyResolver(fetcher, local=context.local_documents(), cache=context.documents)
    canonicalizer = Canonicalizer(
        checkpoint=paced(budget.check), admission=lambda: context.cpu.admit(budget)
    )
    return resolver, canonicalizer


def _proof(
    context: VerificationContext,
    budget: Budget,
    presentation: Mapping[str, Any],
    expected: Expected,
) -> ProofOutcome:
    resolver, canonicalizer = _tools(context, budget)
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    outcome = verify_embedded(
        resolver,
        presentation,
        max_proofs=context.limits.max_proofs,
        canonicalizer=canonicalizer,
        checkpoint=budget.check,
        expected=expected,
        controller_id=holder_id if isinstance(holder_id, str) else None,
    )
    if outcome.proof.message == "the credential has no proof":
        return replace(outcome, proof=Check.error("proof", "the presentation has no proof"))
    return outcome


def _jsonld(
    context: VerificationContext,
    budget: Budget,
    presentation: Mapping[str, Any],
    outcome: ProofOutcome,
) -> Check:
    if outcome.proof.status in (Status.OK, Status.WARNING) or outcome.over_limit:
        return Check.ok("jsonld", "JSON-LD safe mode: pinned contexts, every term defined")
    _, canonicalizer = _tools(context, budget)
    try:
        canonicalizer.canonicalize(without_proof(presentation))
    except (UnknownContextError, CanonicalizationError) as exc:
        if "blank node" in str(exc):
            raise TooComplex(
                f"the presentation cannot be canonicalized within limits: {exc}"
            ) from None
        return Check.error("jsonld", str(exc))
    return Check.ok("jsonld", "JSON-LD safe mode: pinned contexts, every term defined")


def _holder(presentation: Mapping[str, Any], outcome: ProofOutcome) -> Check:
    """The holder's key made the proof; with no holder named, whose key it was is only said."""
    key = outcome.key
    if "holder" in presentation or key.status is not Status.ERROR:
        return Check(HOLDER_KEY, key.status, key.message, key.indeterminate)
    if outcome.proof.status in (Status.OK, Status.WARNING):
        return Check.ok(HOLDER_KEY, "the presentation names no holder; its proof key resolved")
    return Check(HOLDER_KEY, key.status, key.message, key.indeterminate)


def _credentials(presentation: Mapping[str, Any], checks: list[Check]) -> list[Any]:
    value = presentation.get("verifiableCredential")
    items = [] if value is None else value if isinstance(value, list) else [value]
    if len(items) > MAX_CREDENTIALS:
        checks.append(
            Check.skipped(
                "credentials",
                f"not checked: the presentation carries {len(items)} credentials, more than "
                f"the {MAX_CREDENTIALS} this verifier checks",
                indeterminate=True,
            )
        )
        return []
    found = []
    for index, item in enumerate(items):
        try:
            found.append(credential_input(item, f"verifiableCredential[{index}]"))
        except UnrecognisedInput as exc:
            checks.append(Check.error("credentials", exc.message))
    return found


def _as_check(report: VerificationReport) -> Check:
    if report.verdict is Verdict.INVALID:
        return Check.error("credential", "a credential of the presentation is not valid")
    if report.verdict is Verdict.INDETERMINATE:
        return Check.skipped("credential", "a credential could not be checked", indeterminate=True)
    return Check.ok("credential", "valid")
