"""Revocation and suspension through W3C Bitstring Status Lists.

Each issuer has lists per purpose (revocation, suspension) of 131,072 entries. Indexes are
drawn at random among the free ones; the (list, index) unique constraint is what guarantees
an index is never given twice, across processes and hosts. Every change re-signs the list
credential in the same transaction, so what is served is always current.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from badges.models import IssuedCredential, Issuer, StatusAllocation, StatusChange, StatusList
from badges.proofs import vc_jwt
from badges.securing import issuer_signer, secure
from badges.status import bitstring
from catalogue.base import pk, table_of
from catalogue.errors import Conflict, DomainError, NotFound
from keys import store
from keys.sealing import MasterKey
from openbadges_schemas.loader import CREDENTIALS_V2

PURPOSES = ("revocation", "suspension")
# One entry by default: the OB 3.0 JSON Schema (so the 1EdTech validator) accepts a single
# credentialStatus object only. Suspension is available by setting (SKILLSHUB_STATUS_PURPOSES).
DEFAULT_PURPOSES = ("revocation",)
LIST_SIZE = bitstring.MIN_LIST_BITS
TTL_MS = 5 * 60 * 1000
# Random draws before a list counts as full: a draw hits a taken index with probability equal
# to the fill ratio, so 12 misses in a row means the list is about 80 % full or more.
_DRAWS = 12
# str.isdigit() also takes "²" and other Unicode digits, which int() refuses or reads otherwise.
_DECIMAL = re.compile(r"[0-9]+")
# The path of one of our list URLs after /status/: a slug, a purpose, and a sequence number
# in ASCII digits, short enough for the 32-bit column (a longer one is no list of ours).
_LIST_PATH = re.compile(r"([a-z0-9-]{1,80})/(" + "|".join(PURPOSES) + r")/([0-9]{1,10})")
_MAX_SEQ = 2**31 - 1
_RANDOM = secrets.SystemRandom()
# Each round draws from one of _STRIPES interleaved stripes of the list (every 16th index from
# a random offset): an index another transaction inserted but has not committed makes ours
# wait for that transaction's end (the unique index decides only then), and two concurrent
# batches (several workers) drawing 250 each from the whole list would meet about every other
# time. Indexes stay spread over the whole list in no order of issuance. Lists too small for
# stripes of _MIN_STRIPE indexes are drawn from whole (the full-list rule counts on it).
_STRIPES = 16
_MIN_STRIPE = 1024


class StatusError(DomainError):
    code = "status_error"


def list_url(base_url: str, issuer_slug: str, purpose: str, seq: int) -> str:
    return f"{base_url}/status/{issuer_slug}/{purpose}/{seq}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the list credential -------------------------------------------------------------------


def _sign_list(
    session: Session, master_key: MasterKey, issuer: Issuer, status_list: StatusList, url: str
) -> None:
    """(Re)build and sign the list credential, in both securing mechanisms we issue with."""
    now = datetime.now(UTC)
    valid_from = _iso(now)
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": bitstring.encode(status_list.bits),
            "ttl": TTL_MS,
        },
    }
    ldp_signer = issuer_signer(session, master_key, pk(issuer), "ldp")
    signed = secure(credential, "ldp", ldp_signer, created=valid_from, shapes="compile")
    status_list.credential_ldp = json.dumps(signed, indent=2)
    # The JWT form with a key the issuer's identifier names, so anyone can tie it to the
    # issuer: not a did:key issuer's separate ES256 key (see badges.securing).
    jwt_signer = store.own_jwt_signer(session, master_key, pk(issuer), issuer.did)
    status_list.credential_jwt = secure(credential, "jwt", jwt_signer)
    status_list.updated_at = now


def etag(status_list: StatusList, fmt: str) -> str:
    digest = hashlib.sha256(f"{status_list.id}:{status_list.version}:{fmt}".encode()).hexdigest()
    return f'"{digest[:32]}"'


# --- allocation ----------------------------------------------------------------------------


def _open_list(
    session: Session, master_key: MasterKey, issuer: Issuer, purpose: str, base_url: str
) -> StatusList:
    """The issuer's current list for the purpose, creating the next one when none is open."""
    statement = (
        select(StatusList)
        .where(StatusList.issuer_id == issuer.id, StatusList.purpose == purpose)
        .where(col(StatusList.full).is_(False))
        .order_by(col(StatusList.seq))
    )
    current = session.exec(statement).first()
    if current is not None:
        return current
    last = session.exec(
        select(func.max(StatusList.seq)).where(
            StatusList.issuer_id == issuer.id, StatusList.purpose == purpose
        )
    ).one()
    seq = (last or 0) + 1
    new = StatusList(
        issuer_id=pk(issuer),
        purpose=purpose,
        seq=seq,
        size=LIST_SIZE,
        bits=bytes(LIST_SIZE // 8),
        credential_ldp="",
        credential_jwt="",
    )
    _sign_list(session, master_key, issuer, new, list_url(base_url, issuer.slug, purpose, seq))
    savepoint = session.begin_nested()
    try:
        session.add(new)
        session.flush()
    except IntegrityError:
        # Another process opened the same list first: use theirs.
        savepoint.rollback()
        return session.exec(
            select(StatusList).where(
                StatusList.issuer_id == issuer.id,
                StatusList.purpose == purpose,
                StatusList.seq == seq,
            )
        ).one()
    savepoint.commit()
    return new


# PostgreSQL: the batch as two arrays, one statement of three parameters (a VALUES list would
# bind and send three per row).
_INSERT_FREE_POSTGRES = text(
    'INSERT INTO status_allocation (list_id, "index", credential_uuid) '
    "SELECT :list_id, wanted.index, wanted.credential_uuid "
    "FROM unnest(CAST(:indexes AS integer[]), CAST(:uuids AS varchar[])) "
    "AS wanted(index, credential_uuid) "
    'ON CONFLICT (list_id, "index") DO NOTHING RETURNING credential_uuid, "index"'
)


def _insert_free(
    session: Session, status_list: StatusList, wanted: dict[str, int]
) -> dict[str, int]:
    """Insert the (index, credential) pairs whose index is still free, in one statement;
    the ones taken by anyone (here or in another process) are left out by the database."""
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            _INSERT_FREE_POSTGRES,
            {
                "list_id": pk(status_list),
                "indexes": list(wanted.values()),
                "uuids": list(wanted),
            },
        )
    else:
        table = table_of(StatusAllocation)
        statement = (
            sqlite_insert(table)
            .on_conflict_do_nothing(index_elements=["list_id", "index"])
            .returning(table.c.credential_uuid, table.c.index)
        )
        rows = [
            {"list_id": pk(status_list), "index": index, "credential_uuid": credential_uuid}
            for credential_uuid, index in wanted.items()
        ]
        # executemany with RETURNING (SQLAlchemy's "insertmanyvalues": multi-row INSERTs of a
        # statement compiled once and cached; a VALUES list of its own compiles every time).
        found = session.execute(statement, rows)
    # A Row's `.index` is tuple.index: unpack by position.
    return {credential_uuid: index for credential_uuid, index in found}


def _allocate_many(
    session: Session, status_list: StatusList, credential_uuids: list[str]
) -> dict[str, int]:
    """Random free indexes of the list for as many of the credentials as it still has room
    for: each round draws distinct random indexes for those still waiting and inserts them
    with ON CONFLICT DO NOTHING, so no index is ever given twice. The list counts as full
    after `_DRAWS` rounds in a row in which fewer than a fifth of the draws were free (the
    list is then about 80 % full), as for the one-by-one rule before."""
    given: dict[str, int] = {}
    waiting = list(credential_uuids)
    misses = 0
    stripes = _STRIPES if status_list.size >= _STRIPES * _MIN_STRIPE else 1
    while waiting and misses < _DRAWS:
        slots = range(_RANDOM.randrange(stripes), status_list.size, stripes)
        draws = _RANDOM.sample(slots, min(len(waiting), len(slots)))
        got = _insert_free(session, status_list, dict(zip(waiting, draws, strict=False)))
        given |= got
        misses = misses + 1 if len(got) * 5 < len(draws) or not got else 0
        waiting = [u for u in waiting if u not in got]
    return given


def allocate_many(
    session: Session,
    master_key: MasterKey,
    *,
    issuer: Issuer,
    base_url: str,
    credential_uuids: list[str],
    purposes: tuple[str, ...] = DEFAULT_PURPOSES,
) -> dict[str, list[dict[str, Any]]]:
    """A `BitstringStatusListEntry` per purpose for each new credential, allocated in bulk (a
    few statements for a batch of hundreds). Rolled back with the caller's transaction, so an
    index is never leaked by a batch that does not commit."""
    entries: dict[str, list[dict[str, Any]]] = {u: [] for u in credential_uuids}
    for purpose in purposes:
        if purpose not in PURPOSES:
            raise StatusError(f"unknown status purpose {purpose!r}")
        waiting = list(credential_uuids)
        while waiting:
            status_list = _open_list(session, master_key, issuer, purpose, base_url)
            given = _allocate_many(session, status_list, waiting)
            url = list_url(base_url, issuer.slug, purpose, status_list.seq)
            for credential_uuid, index in given.items():
                entries[credential_uuid].append(
                    {
                        "id": f"{url}#{index}",
                        "type": "BitstringStatusListEntry",
                        "statusPurpose": purpose,
                        "statusListIndex": str(index),
                        "statusListCredential": url,
                    }
                )
            waiting = [u for u in waiting if u not in given]
            if waiting:
                status_list.full = True
                session.add(status_list)
                session.flush()
    return entries


def allocate_entries(
    session: Session,
    master_key: MasterKey,
    *,
    issuer: Issuer,
    base_url: str,
    credential_uuid: str,
    purposes: tuple[str, ...] = DEFAULT_PURPOSES,
) -> list[dict[str, Any]]:
    """A `BitstringStatusListEntry` per purpose (revocation, suspension) for a new credential."""
    return allocate_many(
        session,
        master_key,
        issuer=issuer,
        base_url=base_url,
        credential_uuids=[credential_uuid],
        purposes=purposes,
    )[credential_uuid]


def release(session: Session, credential_uuids: list[str]) -> None:
    """Give back the indexes of credentials that will not be stored (their signing failed)."""
    if credential_uuids:
        table = table_of(StatusAllocation)
        session.execute(delete(table).where(table.c.credential_uuid.in_(credential_uuids)))


# --- changes -------------------------------------------------------------------------------


def _entry(session: Session, record: IssuedCredential, purpose: str) -> tuple[StatusList, int]:
    """The list and index a credential holds for a purpose, read from the stored credential."""
    # An erased credential keeps its status entries as plain JSON (backpack.leave).
    if record.format == "ldp" or record.erased_at is not None:
        document = json.loads(record.signed)
    else:
        document = vc_jwt.decode_unverified(record.signed)[1]
    entries = document.get("credentialStatus") or []
    entries = entries if isinstance(entries, list) else [entries]
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("statusPurpose") != purpose:
            continue
        raw = entry.get("statusListIndex")
        if not isinstance(raw, str) or not _DECIMAL.fullmatch(raw):
            raise StatusError(
                f"credential {record.uuid} has a malformed {purpose} status index {raw!r}"
            )
        # By purpose too: a credential's revocation and suspension indexes can coincide.
        allocation = session.exec(
            select(StatusAllocation)
            .join(StatusList, col(StatusList.id) == col(StatusAllocation.list_id))
            .where(
                StatusAllocation.credential_uuid == record.uuid,
                StatusAllocation.index == int(raw),
                StatusList.purpose == purpose,
            )
        ).first()
        status_list = session.get(StatusList, allocation.list_id) if allocation else None
        if status_list is None or status_list.purpose != purpose:
            raise StatusError(f"credential {record.uuid}'s {purpose} entry matches no list of ours")
        return status_list, int(raw)
    raise StatusError(f"credential {record.uuid} has no {purpose} status entry")


def _set(
    session: Session,
    master_key: MasterKey,
    base_url: str,
    record: IssuedCredential,
    purpose: str,
    value: bool,
) -> None:
    status_list, index = _entry(session, record, purpose)
    # Lock the list row: concurrent changes to one list must not lose each other's bits.
    locked = session.exec(
        select(StatusList).where(StatusList.id == status_list.id).with_for_update()
    ).one()
    session.refresh(locked)
    bits = bytearray(locked.bits)
    bitstring.set_bit(bits, index, value)
    locked.bits = bytes(bits)
    locked.version += 1
    issuer = session.get(Issuer, record.issuer_id)
    assert issuer is not None
    _sign_list(
        session, master_key, issuer, locked, list_url(base_url, issuer.slug, purpose, locked.seq)
    )
    session.add(locked)


def set_bit(
    session: Session,
    master_key: MasterKey,
    base_url: str,
    record: IssuedCredential,
    purpose: str,
    value: bool,
) -> None:
    """Set one credential's bit and re-sign its list. `record` may be a transient stand-in
    (uuid, issuer_id, format, signed) for a credential stored elsewhere (an endorsement)."""
    _set(session, master_key, base_url, record, purpose, value)


def change_status(
    session: Session,
    master_key: MasterKey,
    *,
    credential_uuid: str,
    action: str,
    organisation_id: int | None,
    actor: str,
    base_url: str,
    reason: str | None = None,
) -> IssuedCredential:
    """Revoke, suspend or unsuspend; `organisation_id` None means an operator (the CLI)."""
    # Row lock: two concurrent changes of one credential are decided one after the other.
    record = session.exec(
        select(IssuedCredential)
        .where(IssuedCredential.uuid == credential_uuid)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if record is None:
        raise NotFound(f"credential {credential_uuid!r} does not exist")
    issuer = session.get(Issuer, record.issuer_id)
    assert issuer is not None
    if organisation_id is not None and issuer.organisation_id != organisation_id:
        # As for an unknown id: another organisation's credential is not revealed to exist.
        raise NotFound(f"credential {credential_uuid!r} does not exist")
    if record.revoked_at is not None:
        raise Conflict(f"credential {credential_uuid} is revoked; revocation is final")
    if action == "revoke":
        _set(session, master_key, base_url, record, "revocation", True)
        record.revoked_at = datetime.now(UTC)
    elif action == "suspend":
        if record.suspended:
            raise Conflict(f"credential {credential_uuid} is already suspended")
        _set(session, master_key, base_url, record, "suspension", True)
        record.suspended = True
    elif action == "unsuspend":
        if not record.suspended:
            raise Conflict(f"credential {credential_uuid} is not suspended")
        _set(session, master_key, base_url, record, "suspension", False)
        record.suspended = False
    else:
        raise StatusError(f"unknown status action {action!r}")
    reason = (reason or "").strip()[:2000] or None
    session.add(record)
    session.add(
        StatusChange(credential_uuid=record.uuid, action=action, reason=reason, actor=actor)
    )
    session.flush()
    return record


def history(session: Session, credential_uuid: str) -> list[StatusChange]:
    statement = select(StatusChange).where(StatusChange.credential_uuid == credential_uuid)
    return list(session.exec(statement.order_by(col(StatusChange.id))))


def get_list(session: Session, issuer_slug: str, purpose: str, seq: int) -> StatusList:
    issuer = session.exec(select(Issuer).where(Issuer.slug == issuer_slug)).first()
    status_list = (
        session.exec(
            select(StatusList).where(
                StatusList.issuer_id == issuer.id,
                StatusList.purpose == purpose,
                StatusList.seq == seq,
            )
        ).first()
        if issuer
        else None
    )
    if status_list is None:
        raise NotFound(f"status list {issuer_slug}/{purpose}/{seq} does not exist")
    return status_list


def parse_list_url(base_url: str, url: str) -> tuple[str, str, int] | None:
    """(issuer slug, purpose, seq) of a URL naming one of our lists, else None."""
    prefix = f"{base_url}/status/"
    if not url.startswith(prefix):
        return None
    match = _LIST_PATH.fullmatch(url[len(prefix) :])
    if match is None or int(match[3]) > _MAX_SEQ:
        return None
    return match[1], match[2], int(match[3])


def local_status_list(session: Session, base_url: str, url: str) -> str | None:
    """The served Data Integrity list credential for one of our own list URLs (no HTTP)."""
    parsed = parse_list_url(base_url, url)
    if parsed is None:
        return None
    try:
        return get_list(session, *parsed).credential_ldp
    except NotFound:
        return None
