"""The badges in a backpack.

This hub's badges: every credential issued to the learner's verified address (whatever the
case the issuer typed it in), with its state (valid, revoked with the reason, suspended,
expired). "Claiming" one adds it to the backpack in one step (no claim link: the address is
proven by the sign-in) and tells the issuer it was claimed, as a claim link does.

Imported badges: any Open Badges 3.0 credential (JSON, a compact JWS, a baked PNG/SVG, or a
URL to one), checked by the public verifier with its limits on hostile input, refused with the
verifier's reason unless it is valid, kept as it was given and verified again whenever shown.

Both are one row per learner and credential (`fingerprint`, a unique pair): a claim or an
import sent twice, even by two requests at once, gives one row.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backpack.models import BackpackCollectionItem, BackpackItem, Learner
from badges.models import IssuedCredential, StatusChange
from badges.report import Status, Verdict, VerificationReport
from badges.sharing.page import BadgeView, badge_view, status_of
from badges.verifying import VerificationContext, verify
from badges.verifying.fetching import IMAGE_TYPES, JSON_TYPES, JWT_TYPES, LocalFirst
from badges.verifying.input import LoadedCredential, load
from badges.verifying.plain import headline
from catalogue.base import pk
from catalogue.errors import Conflict, DomainError, InvalidInput, NotFound

HUB, IMPORT = "hub", "import"
# Bounds on one backpack (every page and the zip read at most this much).
MAX_HUB_BADGES = 500
MAX_IMPORTS = 100
MAX_GAP = 20  # the skills gap verifies at most this many (proven_skills.MAX_CREDENTIALS)


class ImportRefused(InvalidInput):
    """The verifier does not find the badge valid: its reason is the message (422)."""

    code = "import_refused"

    def __init__(
        self,
        message: str,
        *,
        report: VerificationReport | None = None,
        details: object | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.report = report  # the verifier's report, for callers that word it themselves


class BackpackFull(Conflict):
    code = "backpack_full"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _new_key() -> str:
    return secrets.token_urlsafe(12)


# --- this hub's badges -----------------------------------------------------------------------


def issued_to(session: Session, learner: Learner) -> list[IssuedCredential]:
    """Credentials this hub issued to the learner's address, newest first (erased ones are
    no longer anyone's). Read through the lower(recipient_email) index."""
    return list(
        session.exec(
            select(IssuedCredential)
            .where(
                func.lower(IssuedCredential.recipient_email) == learner.email,
                col(IssuedCredential.erased_at).is_(None),
            )
            .order_by(col(IssuedCredential.created_at).desc(), col(IssuedCredential.id).desc())
            .limit(MAX_HUB_BADGES)
        ).all()
    )


def is_recipient(learner: Learner, record: IssuedCredential) -> bool:
    return (
        record.erased_at is None
        and record.recipient_email is not None
        and record.recipient_email.lower() == learner.email
    )


def state_reason(session: Session, record: IssuedCredential) -> str | None:
    """The reason the issuer gave for the current revocation or suspension, if any."""
    state = status_of(record)
    if state not in ("revoked", "suspended"):
        return None
    action = "revoke" if state == "revoked" else "suspend"
    change = session.exec(
        select(StatusChange)
        .where(StatusChange.credential_uuid == record.uuid, StatusChange.action == action)
        .order_by(col(StatusChange.at).desc(), col(StatusChange.id).desc())
    ).first()
    return change.reason if change is not None else None


@dataclass(frozen=True)
class HubBadge:
    view: BadgeView
    reason: str | None  # of a revocation or suspension
    item: BackpackItem | None  # None until claimed into the backpack


def hub_badges(session: Session, learner: Learner, base_url: str) -> list[HubBadge]:
    records = issued_to(session, learner)
    items = {
        item.credential_id: item
        for item in session.exec(
            select(BackpackItem).where(
                BackpackItem.learner_id == pk(learner), BackpackItem.kind == HUB
            )
        )
    }
    return [
        HubBadge(badge_view(session, r, base_url), state_reason(session, r), items.get(r.id))
        for r in records
    ]


def _insert(session: Session, item: BackpackItem) -> tuple[BackpackItem, bool]:
    """Add the item, or find the one a parallel request (or an earlier one) added."""
    savepoint = session.begin_nested()
    try:
        session.add(item)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        found = session.exec(
            select(BackpackItem).where(
                BackpackItem.learner_id == item.learner_id,
                BackpackItem.fingerprint == item.fingerprint,
            )
        ).one()
        return found, False
    savepoint.commit()
    return item, True


def _hub_fingerprint(credential_uuid: str) -> str:
    return hashlib.sha256(f"hub:{credential_uuid}".encode()).hexdigest()


def claim(
    session: Session, learner: Learner, credential_uuid: str, *, now: datetime | None = None
) -> BackpackItem:
    """Add one of the learner's credentials to the backpack (again: the same row)."""
    record = session.exec(
        select(IssuedCredential).where(IssuedCredential.uuid == credential_uuid)
    ).first()
    if record is None or not is_recipient(learner, record):
        raise NotFound("There is no badge for your address at this address.")
    item, _created = _insert(
        session,
        BackpackItem(
            learner_id=pk(learner),
            key=_new_key(),
            kind=HUB,
            fingerprint=_hub_fingerprint(record.uuid),
            credential_id=pk(record),
            added_at=_now(now),
        ),
    )
    if record.claimed_at is None:  # the issuer's recipients list shows the first claim
        record.claimed_at = _now(now)
        session.add(record)
    return item


def claim_all(session: Session, learner: Learner, *, now: datetime | None = None) -> int:
    """Claim every credential issued to the address not in the backpack yet; how many."""
    held = set(
        session.exec(
            select(BackpackItem.credential_id).where(
                BackpackItem.learner_id == pk(learner), BackpackItem.kind == HUB
            )
        )
    )
    fresh = [r for r in issued_to(session, learner) if r.id not in held]
    for record in fresh:
        claim(session, learner, record.uuid, now=now)
    return len(fresh)


# --- imported badges -----------------------------------------------------------------------


def fetch_input(context: VerificationContext, given: bytes | str) -> bytes:
    """The badge's bytes: a URL is fetched under the verifier's rules (https, public
    addresses, size and time bounds; our own documents from the database)."""
    if isinstance(given, bytes):
        return given
    text = given.strip()
    if text.startswith(("https://", "http://")):
        fetcher = LocalFirst(context.fetcher, context.local_documents())
        return fetcher.fetch(text, accept=JSON_TYPES | JWT_TYPES | IMAGE_TYPES).body
    return text.encode()


def fingerprint(loaded: LoadedCredential) -> str:
    """The credential's identity whatever carried it (the same badge as JSON or as a baked
    image is one badge)."""
    if loaded.token is not None:
        text = loaded.token
    else:
        text = json.dumps(loaded.credential, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"import:{text}".encode()).hexdigest()


def refusal(report: VerificationReport) -> str:
    """Why an import is refused, in the verifier's words: its plain sentence, then the first
    check that failed (or could not be completed)."""
    line = headline(report)
    values = {k: v or "" for k, v in line.values.items()}
    sentence = line.sentence % values
    problem = first_problem(report)
    detail = f" ({problem})" if problem else ""
    return f"{line.title % values}: {sentence}{detail}"


def first_problem(report: VerificationReport) -> str | None:
    """The message of the first check that failed or could not be completed, if any."""
    first = next(
        (c for c in report.checks if c.status in (Status.ERROR, Status.SKIPPED)),
        None,
    )
    return first.message if first is not None and first.message else None


@dataclass(frozen=True)
class Checked:
    """An import's input once verified: what to store."""

    data: bytes
    container: str
    fingerprint: str
    report: VerificationReport


def check_import(context: VerificationContext, given: bytes | str) -> Checked:
    """Fetch (a URL), read and verify a badge to import; ImportRefused unless valid. Bad input
    (too large, malformed, not a badge) raises the verifier's own errors."""
    data = fetch_input(context, given)
    loaded = load(data, context.limits)
    report = verify(context, data)
    if report.verdict is not Verdict.VALID:
        raise ImportRefused(refusal(report), report=report)
    return Checked(data, loaded.container, fingerprint(loaded), report)


def add_import(
    session: Session, learner: Learner, checked: Checked, *, now: datetime | None = None
) -> tuple[BackpackItem, bool]:
    """Store a checked import: (the row, whether it is new)."""
    count = session.exec(
        select(func.count())
        .select_from(BackpackItem)
        .where(BackpackItem.learner_id == pk(learner), BackpackItem.kind == IMPORT)
    ).one()
    summary = checked.report.summary
    trust = summary.issuer_trust
    vouched = trust.legal_name if trust and trust.standing in ("registered", "listed") else None
    item = BackpackItem(
        learner_id=pk(learner),
        key=_new_key(),
        kind=IMPORT,
        fingerprint=checked.fingerprint,
        container=checked.container,
        data=checked.data,
        title=(summary.achievement_name or summary.credential_name or "")[:300],
        issuer_name=(vouched or summary.issuer_name or "")[:300],
        added_at=_now(now),
    )
    if count >= MAX_IMPORTS:
        existing = session.exec(
            select(BackpackItem).where(
                BackpackItem.learner_id == pk(learner),
                BackpackItem.fingerprint == checked.fingerprint,
            )
        ).first()
        if existing is not None:
            return existing, False
        raise BackpackFull(f"A backpack holds at most {MAX_IMPORTS} imported badges.")
    return _insert(session, item)


def imports(session: Session, learner: Learner) -> list[BackpackItem]:
    return list(
        session.exec(
            select(BackpackItem)
            .where(BackpackItem.learner_id == pk(learner), BackpackItem.kind == IMPORT)
            .order_by(col(BackpackItem.added_at).desc(), col(BackpackItem.id).desc())
        ).all()
    )


@dataclass(frozen=True)
class ImportedBadge:
    item: BackpackItem
    report: VerificationReport | None  # None: it could not be read any more
    problem: str | None = None


def reverify(context: VerificationContext, items: Sequence[BackpackItem]) -> list[ImportedBadge]:
    """Verify imported badges again, as they are shown; the whole page shares one time
    budget (each verification its own fetch allowance), as the skills gap does."""
    shared = context.budget()
    shown = []
    for item in items:
        try:
            report = verify(context, item.data or b"", budget=shared.same_deadline())
        except DomainError as exc:
            shown.append(ImportedBadge(item, None, exc.message))
            continue
        shown.append(ImportedBadge(item, report))
    return shown


def credential_text(item: BackpackItem, context: VerificationContext) -> tuple[str, str]:
    """(the credential as JSON text or a compact JWS, "json" | "jwt") of an import."""
    loaded = load(item.data or b"", context.limits)
    if loaded.token is not None:
        return loaded.token, "jwt"
    return json.dumps(loaded.credential, ensure_ascii=False, indent=2), "json"


def own_item(session: Session, learner: Learner, key: str) -> BackpackItem:
    item = session.exec(
        select(BackpackItem).where(
            BackpackItem.key == key[:32], BackpackItem.learner_id == pk(learner)
        )
    ).first()
    if item is None:
        raise NotFound("There is no such badge in your backpack.")
    return item


def remove(session: Session, learner: Learner, key: str) -> None:
    """Take a badge out of the backpack (this hub's stays issued to the address)."""
    item = own_item(session, learner, key)
    session.exec(
        delete(BackpackCollectionItem).where(col(BackpackCollectionItem.item_id) == pk(item))
    )
    session.delete(item)
    session.flush()


def gap_credentials(session: Session, learner: Learner) -> list[str | bytes]:
    """The backpack's badges for the skills gap, at most MAX_GAP of them: this hub's valid
    ones first (newest first), then the imports. The gap verifies each again."""
    chosen: list[str | bytes] = [
        r.signed for r in issued_to(session, learner) if status_of(r) == "valid"
    ]
    chosen += [i.data for i in imports(session, learner) if i.data]
    return chosen[:MAX_GAP]
