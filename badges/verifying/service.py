"""The public verifier: is this Open Badges 3.0 credential real, current, and whose is it?

Works for credentials from any conforming issuer. Input: a JSON credential (embedded
proof), a compact JWS (VC-JWT), a baked PNG/SVG, or an https URL to any of these. Checks
run in the order of the OB 3.0 verification algorithm (§9.1) and each is reported:

    format     what was given, and its VC Data Model version (1.1 is a legacy warning)
    jsonld     JSON-LD safe mode: pinned contexts only, no undefined terms
    structure  the OB 3.0 data model (openbadges_schemas.ob3)
    proof, issuer_key, jwt_claims
               the signature, whose key made it, and (VC-JWT) the claims against the credential
    status     Bitstring Status List / 1EdTech Revocation List
    valid_from, valid_until
    recipient  an e-mail typed by the verifier against the IdentityObject
    endorsements  each embedded EndorsementCredential, verified the same way

Verdict: invalid if any check failed, indeterminate if one could not be completed (a key or
a status list out of reach, an unsupported DID method), valid otherwise (warnings allowed).
Bad input (too large, malformed, too complex) raises a DomainError (a 4xx), never a report.

Bounded work: one time budget and fetch allowance per verification (`badges.verifying.budget`),
shared by its endorsements and the documents they need; more proofs or endorsements than the
limits is an indeterminate check naming the limit, unchecked; the document is canonicalized
once for all its proofs and the JSON-LD check.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from sqlmodel import Session

from badges.proofs.canonicalize import CanonicalizationError, Canonicalizer
from badges.proofs.data_integrity import without_proof
from badges.proofs.vc_jwt import JwtError, credential_from_payload, decode_unverified
from badges.report import (
    Check,
    Recipient,
    Skill,
    Status,
    Summary,
    Verdict,
    VerificationReport,
    is_skill_alignment,
    verdict_of,
)
from badges.verifying import edc as europass
from badges.verifying.budget import Budget, BudgetedFetcher, BudgetExceeded, Clock, CpuGate, paced
from badges.verifying.fetching import IMAGE_TYPES, JSON_TYPES, JWT_TYPES, Fetcher, LocalFirst
from badges.verifying.input import Limits, LoadedCredential, TooComplex, check_json_shape, load
from badges.verifying.own_facts import enrich
from badges.verifying.proofs import ProofOutcome, issuer_id_of, verify_embedded, verify_jwt
from badges.verifying.resolving import (
    BakedImageLookup,
    DatabaseDocuments,
    DocumentCache,
    KeyResolver,
    LocalStatusLookup,
)
from badges.verifying.status import StatusChecker, StatusListCache
from badges.verifying.trust import assess_issuer
from badges.verifying.trust_lists import TrustLists
from catalogue import skills as catalogue_skills
from openbadges_schemas import eu_microcredential
from openbadges_schemas.loader import CREDENTIALS_V1, UnknownContextError
from openbadges_schemas.ob3 import validate_structure
from openbadges_schemas.vc_data_model import credential_problems, version_of

# The 1EdTech OB 3.0 schemas: validate_structure applies the same rules, so they are
# checked without being fetched; any other credentialSchema is reported as not checked.
_OB_SCHEMA_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/schema/"
_MAX_SHOWN_ISSUES = 5
_OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/"
_OB_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential"})
_MAX_TEXT = 500


@dataclass(frozen=True)
class VerifyOptions:
    recipient_email: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class VerificationContext:
    """What a verification may use. Long-lived parts (fetcher, caches) are shared between
    requests; bind a request's session with `bound(session)`."""

    session: Session | None = None
    fetcher: Fetcher = field(default_factory=Fetcher)
    base_url: str | None = None
    local_status: LocalStatusLookup | None = None
    baked_image: BakedImageLookup | None = None
    trust_lists: TrustLists = field(default_factory=TrustLists)
    limits: Limits = field(default_factory=Limits)
    documents: DocumentCache = field(default_factory=DocumentCache)
    status_lists: StatusListCache = field(default_factory=StatusListCache)
    trust_anchors: tuple[x509.Certificate, ...] = ()  # for Europass (JAdES) seal chains
    clock: Clock = time.monotonic  # the budget's clock (a test may drive it)
    # Shared by every verification that uses this context (and its `bound` copies).
    cpu: CpuGate = field(default_factory=lambda: CpuGate(1))

    def bound(self, session: Session | None) -> VerificationContext:
        return replace(self, session=session)

    def local_documents(self) -> DatabaseDocuments | None:
        if self.session is None or self.base_url is None:
            return None
        return DatabaseDocuments(self.session, self.base_url, self.local_status, self.baked_image)

    def budget(self) -> Budget:
        """A fresh allowance for one verification (or for one request's several)."""
        return Budget(
            self.limits.budget_seconds, max_fetches=self.limits.max_fetches, clock=self.clock
        )


def verify(
    session_or_context: Session | VerificationContext | None,
    data: bytes | str | Mapping[str, Any],
    *,
    options: VerifyOptions | None = None,
    budget: Budget | None = None,
) -> VerificationReport:
    """Verify `data`: bytes are sniffed (JSON, JWS, PNG, SVG); a str is a JWS, JSON text, or
    an http(s) URL to fetch; a mapping is a JSON credential.

    `budget` defaults to a fresh one from the context's limits; pass one to share it between
    several verifications. Out of time, the report is indeterminate and says so."""
    context = (
        session_or_context
        if isinstance(session_or_context, VerificationContext)
        else VerificationContext(session=session_or_context)
    )
    verification = _Verification(context, options or VerifyOptions(), budget or context.budget())
    try:
        if isinstance(data, str) and data.strip().startswith(("https://", "http://")):
            accept = JSON_TYPES | JWT_TYPES | IMAGE_TYPES
            data = verification.fetcher.fetch(data.strip(), accept=accept).body
        loaded = load(data, context.limits)
        return verification.run(loaded)
    except BudgetExceeded as exc:
        return verification.stopped(exc)


class _Verification:
    def __init__(
        self, context: VerificationContext, options: VerifyOptions, budget: Budget
    ) -> None:
        self.context = context
        self.options = options
        self.now = options.now or datetime.now(UTC)
        self.budget = budget
        local = context.local_documents()
        # Our own documents (under BASE_URL) come from the database, outside the budget.
        self.fetcher = LocalFirst(BudgetedFetcher(context.fetcher, budget), local)
        self.resolver = KeyResolver(self.fetcher, local=local, cache=context.documents)
        self.canonicalizer = Canonicalizer(
            checkpoint=paced(budget.check), admission=lambda: context.cpu.admit(budget)
        )
        # What the (top-level) run has established so far, for a report if time runs out.
        self.credential: dict[str, Any] | None = None
        self.checks: list[Check] = []

    def nested(self) -> _Verification:
        """An endorsement's verification: the same budget, fetcher and canonical forms."""
        inner = _Verification(self.context, VerifyOptions(now=self.options.now), self.budget)
        inner.fetcher, inner.resolver = self.fetcher, self.resolver
        inner.canonicalizer = self.canonicalizer
        return inner

    def stopped(self, exc: BudgetExceeded) -> VerificationReport:
        checks = [*self.checks, Check.skipped("budget", exc.message, indeterminate=True)]
        summary = (
            _summary(self.credential, self.context.session, None, None)
            if self.credential is not None
            else Summary()
        )
        return VerificationReport(verdict_of(checks), checks, summary)

    def run(self, loaded: LoadedCredential, *, depth: int = 0) -> VerificationReport:
        if loaded.credential is not None and europass.is_edc(loaded.credential):
            return europass.verification_report(
                europass.verify_edc(
                    loaded.credential, now=self.now, trust_anchors=self.context.trust_anchors
                )
            )
        header: dict[str, Any] = {}
        claims: list[Check] = []
        if loaded.token is not None:
            try:
                header, payload = decode_unverified(loaded.token)
                parsed = credential_from_payload(payload)
            except JwtError as exc:
                check = Check.error("format", f"not a valid VC-JWT: {exc}")
                return VerificationReport(verdict_of([check]), [check], Summary())
            credential = parsed.credential
            check_json_shape(credential, self.context.limits)
            legacy = parsed.legacy
            claims = [_claims_check(parsed.problems)]
            described = "VC-JWT (compact JWS)"
        else:
            assert loaded.credential is not None
            credential = loaded.credential
            legacy = False
            described = "JSON credential with an embedded proof"
        if loaded.container in ("png", "svg"):
            described += f", baked in a {loaded.container.upper()} image"
        format_check = _format_check(credential, described, legacy)
        # Checks are recorded as they complete: out of time, the report keeps them.
        self.credential, checks = credential, self.checks
        checks.append(format_check)

        self.budget.check()
        if loaded.token is not None:
            outcome = verify_jwt(self.resolver, loaded.token, header, issuer_id_of(credential))
        else:
            outcome = verify_embedded(
                self.resolver,
                credential,
                max_proofs=self.context.limits.max_proofs,
                canonicalizer=self.canonicalizer,
                checkpoint=self.budget.check,
            )
        jsonld = self._jsonld(credential, outcome, jwt=loaded.token is not None)
        self.budget.check()
        checks.extend(
            [
                jsonld,
                _data_model(credential),
                _structure(credential),
                *_schema_checks(credential),
                *outcome.checks,
                *claims,
            ]
        )
        trust = assess_issuer(
            credential,
            self.context.session,
            self.context.base_url,
            self.context.trust_lists,
            verified=outcome.verified,
        )
        checks.append(trust.check)
        status_check = self._status(credential)
        checks.append(status_check)
        checks.extend(_date_checks(credential, self.now))
        recipient_check, matched = _recipient(credential, self.options.recipient_email)
        checks.append(recipient_check)
        endorsements: list[VerificationReport] = []
        if depth == 0:
            found = _endorsements(credential)
            limit = self.context.limits.max_endorsements
            if len(found) > limit:
                checks.append(
                    Check.skipped(
                        "endorsements",
                        f"not checked: the credential carries {len(found)} endorsements, more "
                        f"than the {limit} this verifier checks",
                        indeterminate=True,
                    )
                )
            else:
                for endorsement in found:
                    self.budget.check()
                    endorsements.append(self.nested().run(endorsement, depth=1))
                if endorsements:
                    checks.append(_endorsements_check(endorsements))
        summary = _summary(
            credential,
            self.context.session,
            outcome.format,
            self.options.recipient_email.strip()
            if matched and self.options.recipient_email
            else None,
        )
        summary = enrich(
            replace(summary, issuer_trust=trust.trust),
            session=self.context.session,
            base_url=self.context.base_url,
            status=status_check,
        )
        return VerificationReport(verdict_of(checks), checks, summary, endorsements)

    def _jsonld(self, credential: dict[str, Any], outcome: ProofOutcome, *, jwt: bool) -> Check:
        # A verified Data Integrity proof canonicalized the document in safe mode already.
        if not jwt and outcome.proof.status in (Status.OK, Status.WARNING):
            return Check.ok("jsonld", "JSON-LD safe mode: pinned contexts, every term defined")
        if outcome.over_limit:  # refused unchecked: not worth a canonicalization either
            return Check.skipped("jsonld", "not checked: the proofs were not checked")
        try:
            # Usually a cache hit: the proofs canonicalized this same unsecured document.
            self.canonicalizer.canonicalize(without_proof(credential))
        except UnknownContextError as exc:
            return Check.error("jsonld", str(exc))
        except CanonicalizationError as exc:
            if "blank node" in str(exc):
                raise TooComplex(
                    f"the credential cannot be canonicalized within limits: {exc}"
                ) from None
            return Check.error("jsonld", str(exc))
        return Check.ok("jsonld", "JSON-LD safe mode: pinned contexts, every term defined")

    def _status(self, credential: dict[str, Any]) -> Check:
        self.budget.check()
        checker = StatusChecker(
            self.resolver,
            self.fetcher,
            self.context.status_lists,
            self.context.limits,
            self.context.local_documents(),
            checkpoint=self.budget.check,
            canonicalizer=self.canonicalizer,
        )
        return checker.check(credential)


# --- individual checks -------------------------------------------------------------------


def _first_context(credential: Mapping[str, Any]) -> Any:
    context = credential.get("@context")
    return context[0] if isinstance(context, list) and context else context


def _format_check(credential: Mapping[str, Any], described: str, legacy_jwt: bool) -> Check:
    if _first_context(credential) == CREDENTIALS_V1 or legacy_jwt:
        how = "the VC-JWT `vc` claim" if legacy_jwt else "its @context"
        return Check.warning(
            "format",
            f"{described}; VC Data Model 1.1 ({how}), a legacy format superseded by VC 2.0",
        )
    return Check.ok("format", f"{described} (VC Data Model 2.0)")


def _data_model(credential: Mapping[str, Any]) -> Check:
    """The VC Data Model's own MUSTs (2.0, or 1.1 for a 1.1 credential), for any credential."""
    problems = credential_problems(credential)
    version = version_of(credential)
    if not problems:
        return Check.ok("vc_data_model", f"conforms to the VC Data Model {version}")
    shown = "; ".join(str(p) for p in problems[:_MAX_SHOWN_ISSUES])
    more = (
        f" (and {len(problems) - _MAX_SHOWN_ISSUES} more)"
        if len(problems) > _MAX_SHOWN_ISSUES
        else ""
    )
    return Check.error("vc_data_model", f"not a conforming credential: {shown}{more}")


def claims_open_badge(credential: Mapping[str, Any]) -> bool:
    """Whether the credential says it is an Open Badge, by its type or its OB 3.0 @context:
    only then must it have the OB 3.0 structure."""
    contexts = _as_list(credential.get("@context"))
    return any(kind in _OB_TYPES for kind in _as_list(credential.get("type"))) or any(
        isinstance(c, str) and c.startswith(_OB_CONTEXT_PREFIX) for c in contexts
    )


def credential_kind(credential: Mapping[str, Any]) -> str:
    model = f"VC Data Model {version_of(credential)}"
    if claims_open_badge(credential):
        return f"Open Badges 3.0 credential ({model})"
    return f"Verifiable Credential ({model})"


def _structure(credential: Mapping[str, Any]) -> Check:
    if not claims_open_badge(credential):
        return Check.skipped(
            "structure",
            "not an Open Badge (neither its type nor its @context says so), so the Open "
            "Badges 3.0 structure does not apply",
        )
    issues = validate_structure(credential)
    if not issues:
        return Check.ok("structure", "conforms to the Open Badges 3.0 data model")
    shown = "; ".join(f"{i.path or '/'}: {i.message}" for i in issues[:_MAX_SHOWN_ISSUES])
    more = (
        f" (and {len(issues) - _MAX_SHOWN_ISSUES} more)" if len(issues) > _MAX_SHOWN_ISSUES else ""
    )
    return Check.error("structure", f"does not conform to Open Badges 3.0: {shown}{more}")


def _schema_checks(credential: Mapping[str, Any]) -> list[Check]:
    schemas = credential.get("credentialSchema")
    schemas = schemas if isinstance(schemas, list) else [schemas] if schemas else []
    ids = [s.get("id") for s in schemas if isinstance(s, Mapping)]
    checks = []
    if eu_microcredential.SCHEMA_URL in ids:
        # Ours, pinned: checked from the local copy, never fetched.
        found = eu_microcredential.problems(credential)
        checks.append(
            Check.error("eu_schema", "EU micro-credential elements: " + "; ".join(found[:5]))
            if found
            else Check.ok("eu_schema", "the EU micro-credential elements conform to their schema")
        )
    others = [
        i
        for i in ids
        if not (isinstance(i, str) and i.startswith(_OB_SCHEMA_PREFIX))
        and i != eu_microcredential.SCHEMA_URL
    ]
    if others:
        checks.append(
            Check.warning(
                "credential_schema",
                f"issuer-defined schema(s) not checked (schemas are never fetched): {others}",
            )
        )
    return checks


def _claims_check(problems: Any) -> Check:
    mismatched = [p.message for p in problems if p.kind == "mismatch"]
    missing = [p.message for p in problems if p.kind != "mismatch"]
    if mismatched:
        return Check.error("jwt_claims", "; ".join(mismatched))
    if missing:
        return Check.warning("jwt_claims", "; ".join(missing))
    return Check.ok("jwt_claims", "the JWT claims agree with the credential")


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _date_names(credential: Mapping[str, Any]) -> tuple[str, str]:
    if _first_context(credential) == CREDENTIALS_V1:
        return "issuanceDate", "expirationDate"
    return "validFrom", "validUntil"


def _date_checks(credential: Mapping[str, Any], now: datetime) -> list[Check]:
    start_name, end_name = _date_names(credential)
    checks = []
    start = credential.get(start_name)
    moment = _parse_moment(start)
    if start is None:
        checks.append(Check.skipped("valid_from", f"no {start_name}"))
    elif moment is None:
        checks.append(Check.error("valid_from", f"{start_name} {start!r} is not a date-time"))
    elif moment > now:
        checks.append(Check.error("valid_from", f"not valid yet: {start_name} is {start}"))
    else:
        checks.append(Check.ok("valid_from", f"valid since {start}"))
    end = credential.get(end_name)
    moment = _parse_moment(end)
    if end is None:
        checks.append(Check.ok("valid_until", "does not expire"))
    elif moment is None:
        checks.append(Check.error("valid_until", f"{end_name} {end!r} is not a date-time"))
    elif moment < now:
        checks.append(Check.error("valid_until", f"expired: {end_name} was {end}"))
    else:
        checks.append(Check.ok("valid_until", f"valid until {end}"))
    return checks


def _subject(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    return subject if isinstance(subject, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _identity_matches(identity: Mapping[str, Any], email: str) -> bool:
    value = identity.get("identityHash")
    if not isinstance(value, str):
        return False
    candidates = {email, email.lower()}
    if identity.get("hashed") is not True:
        return value.strip().lower() == email.lower()
    algorithm, _, digest = value.partition("$")
    if algorithm not in ("sha256", "md5") or not digest:
        return False
    salt = identity.get("salt")
    salt = salt if isinstance(salt, str) else ""
    return any(
        hmac.compare_digest(
            hashlib.new(algorithm, (candidate + salt).encode()).hexdigest(), digest.lower()
        )
        for candidate in candidates
    )


def _recipient(credential: Mapping[str, Any], email: str | None) -> tuple[Check, bool]:
    if not email or not email.strip():
        return Check.skipped("recipient", "no e-mail address was given to match"), False
    email = email.strip()
    subject = _subject(credential)
    if subject.get("id") == f"mailto:{email}":
        return Check.ok("recipient", "the e-mail address matches the recipient"), True
    identities = [
        i
        for i in _as_list(subject.get("identifier"))
        if isinstance(i, Mapping) and i.get("identityType") == "emailAddress"
    ]
    if not identities:
        return (
            Check.skipped(
                "recipient", "the credential names no e-mail identity to match", indeterminate=True
            ),
            False,
        )
    if any(_identity_matches(identity, email) for identity in identities):
        return Check.ok("recipient", "the e-mail address matches the recipient"), True
    return Check.error("recipient", "the e-mail address does not match the recipient"), False


def _endorsements(credential: Mapping[str, Any]) -> list[LoadedCredential]:
    achievement = _subject(credential).get("achievement")
    issuer = credential.get("issuer")
    found: list[LoadedCredential] = []
    for holder in (credential, achievement, issuer):
        if not isinstance(holder, Mapping):
            continue
        for endorsement in _as_list(holder.get("endorsement")):
            if isinstance(endorsement, dict):
                found.append(LoadedCredential("json", credential=endorsement))
        for token in _as_list(holder.get("endorsementJwt")):
            if isinstance(token, str):
                found.append(LoadedCredential("jwt", token=token))
    return found


def _endorsements_check(reports: list[VerificationReport]) -> Check:
    """Endorsements are third parties' claims about the badge: one that fails does not make
    the issuer's credential false, so it is a warning telling the reader to disregard it.
    (The OB 3.0 spec's own complete example carries a placeholder endorsement proof.)"""

    def who(report: VerificationReport) -> str:
        return report.summary.issuer_name or report.summary.issuer_id or "an unnamed issuer"

    problems = []
    for report in reports:
        if report.verdict is Verdict.VALID:
            continue
        first = (report.errors or report.unresolved)[0]
        outcome = "fails" if report.verdict is Verdict.INVALID else "could not be checked"
        problems.append(f"the endorsement by {who(report)} {outcome} ({first.id}: {first.message})")
    if problems:
        return Check.warning("endorsements", "; ".join(problems) + "; disregard it")
    names = ", ".join(who(r) for r in reports)
    return Check.ok("endorsements", f"{len(reports)} endorsement(s) verified: {names}")


# --- summary -----------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value[:_MAX_TEXT] if isinstance(value, str) else None


def _web_url(value: Any) -> str | None:
    text = _text(value)
    return text if text and text.startswith(("https://", "http://")) else None


def catalogue_skill_labels(
    session: Session | None, iris: list[str], language: str | None = None
) -> dict[str, str]:
    """Our catalogue's labels for aligned skills it holds (ESCO IRIs, mostly), in `language`
    where it holds one (else, and by default, the primary label); cached across
    verifications until the skill table changes (`catalogue.skills.skill_labels`)."""
    if session is None or not iris:
        return {}
    return catalogue_skills.skill_labels(session, iris, language)


def _summary(
    credential: Mapping[str, Any],
    session: Session | None,
    proof_format: str | None,
    email: str | None,
) -> Summary:
    issuer = credential.get("issuer")
    subject = _subject(credential)
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    alignments = [
        a
        for a in _as_list(achievement.get("alignment"))
        if isinstance(a, Mapping) and is_skill_alignment(a)
    ]
    urls = [url for a in alignments if (url := _web_url(a.get("targetUrl")))]
    labels = catalogue_skill_labels(session, urls)
    skills = [
        Skill(
            name=_text(a.get("targetName")),
            url=_web_url(a.get("targetUrl")),
            framework=_text(a.get("targetFramework")),
            code=_text(a.get("targetCode")),
            catalogue_label=labels.get(_web_url(a.get("targetUrl")) or ""),
        )
        for a in alignments
    ]
    identifiers = [i for i in _as_list(subject.get("identifier")) if isinstance(i, Mapping)]
    names = [
        i.get("identityHash")
        for i in identifiers
        if i.get("identityType") == "name" and i.get("hashed") is False
    ]
    subject_id = _text(subject.get("id"))
    start_name, end_name = _date_names(credential)
    kinds = [k for k in _as_list(credential.get("type")) if k != "VerifiableCredential"]
    achievement_type = achievement.get("achievementType")
    return Summary(
        credential_id=_text(credential.get("id")),
        credential_name=_text(credential.get("name")),
        credential_type=_text(kinds[0]) if kinds else None,
        credential_kind=credential_kind(credential),
        issuer_id=issuer_id_of(credential),
        issuer_name=_text(issuer.get("name")) if isinstance(issuer, Mapping) else None,
        achievement_name=_text(achievement.get("name")),
        achievement_id=_text(achievement.get("id")),
        achievement_type=_text(achievement_type),
        achievement_description=_text(achievement.get("description")),
        recipient=Recipient(
            id=subject_id if subject_id and not subject_id.startswith("mailto:") else None,
            name=_text(names[0]) if names else _text(subject.get("name")),
            identifier_types=[
                f"{i.get('identityType')} ({'hashed' if i.get('hashed') else 'plain'})"
                for i in identifiers
                if isinstance(i.get("identityType"), str)
            ],
            email=email,
        ),
        skills=skills,
        valid_from=_text(credential.get(start_name)),
        valid_until=_text(credential.get(end_name)),
        proof_format=proof_format,
    )
