"""What a learner shows others: a public profile at a handle they choose, with the badges they
pick; collections of badges with links of their own; and the whole backpack as a zip.

What is public, and to whom:
- the profile (/profiles/{handle}) once the learner switches it on, with the badges marked
  "on my profile";
- a collection's page (/profiles/{handle}/collections/{slug}) to anyone with its link, while
  the learner has a handle;
- this hub's badges only while their own page is public (the per-badge switch as on the badge
  page): hiding a badge's page takes it off the profile and every collection at once. Putting
  one on the profile or in a collection makes its page public (the learner is told so).
An imported badge's page (/profiles/{handle}/badges/{key}) is public while it is on the
profile or in a collection.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backpack import items as backpack_items
from backpack.models import (
    BackpackCollection,
    BackpackCollectionItem,
    BackpackItem,
    Learner,
    LearnerSession,
)
from badges.models import IssuedCredential
from badges.sharing import images
from badges.verifying import VerificationContext
from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput, NotFound
from catalogue.text import fold

HANDLE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,28}[a-z0-9])")
RESERVED = frozenset({"admin", "api", "backpack", "console", "me", "new", "settings", "static"})
MAX_COLLECTIONS = 50
_SLUG_RUN = re.compile(r"[^a-z0-9]+")


class HandleTaken(Conflict):
    code = "handle_taken"


# --- the profile ---------------------------------------------------------------------------


def set_profile(
    session: Session,
    learner: Learner,
    *,
    handle: str,
    display_name: str,
    public: bool,
) -> None:
    """Choose the handle, the name shown and whether the profile is public; HandleTaken when
    another learner has the handle (the unique constraint decides, also under concurrency)."""
    handle = handle.strip().lower()
    name = " ".join(display_name.split())
    if not HANDLE.fullmatch(handle) or handle in RESERVED:
        raise InvalidInput(
            "A handle has 3 to 30 letters (a to z), digits or hyphens, and starts and ends with a "
            "letter or digit.",
            details={"field": "handle"},
        )
    if len(name) > 100:
        raise InvalidInput("The name is at most 100 characters.", details={"field": "name"})
    savepoint = session.begin_nested()  # (flushes what is pending first)
    try:
        learner.handle, learner.display_name = handle, name or None
        learner.profile_public = public
        session.add(learner)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        session.refresh(learner)
        raise HandleTaken(f"The handle “{handle}” is taken: choose another.") from None
    savepoint.commit()


def _show_hub_page(session: Session, item: BackpackItem) -> None:
    record = session.get(IssuedCredential, item.credential_id)
    if record is not None and not record.public:
        record.public = True
        session.add(record)


def set_on_profile(session: Session, learner: Learner, key: str, shown: bool) -> BackpackItem:
    item = backpack_items.own_item(session, learner, key)
    item.on_profile = shown
    if shown and item.kind == backpack_items.HUB:
        _show_hub_page(session, item)
    session.add(item)
    session.flush()
    return item


def _shareable(session: Session, item: BackpackItem) -> bool:
    if item.kind != backpack_items.HUB:
        return True
    record = session.get(IssuedCredential, item.credential_id)
    return record is not None and record.public and record.erased_at is None


@dataclass(frozen=True)
class Shared:
    """A badge as others see it: this hub's (its public page) or an import (its page here)."""

    item: BackpackItem
    record: IssuedCredential | None


def _shared(session: Session, rows: list[BackpackItem]) -> list[Shared]:
    shown = []
    for item in rows:
        if not _shareable(session, item):
            continue
        record = session.get(IssuedCredential, item.credential_id) if item.credential_id else None
        shown.append(Shared(item, record))
    return shown


def public_learner(session: Session, handle: str) -> Learner:
    learner = session.exec(select(Learner).where(Learner.handle == handle.lower()[:40])).first()
    if learner is None:
        raise NotFound("There is no public profile at this address.")
    return learner


def profile(session: Session, handle: str) -> tuple[Learner, list[Shared]]:
    learner = public_learner(session, handle)
    if not learner.profile_public:
        raise NotFound("There is no public profile at this address.")
    rows = session.exec(
        select(BackpackItem)
        .where(BackpackItem.learner_id == pk(learner), col(BackpackItem.on_profile).is_(True))
        .order_by(col(BackpackItem.added_at).desc(), col(BackpackItem.id).desc())
    ).all()
    return learner, _shared(session, list(rows))


# --- collections -----------------------------------------------------------------------------


def _slug(name: str) -> str:
    return _SLUG_RUN.sub("-", fold(name)).strip("-")[:30] or "collection"


def create_collection(session: Session, learner: Learner, name: str) -> BackpackCollection:
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise InvalidInput("A collection needs a name of 1 to 100 characters.")
    taken = set(
        session.exec(
            select(BackpackCollection.slug).where(BackpackCollection.learner_id == pk(learner))
        )
    )
    if len(taken) >= MAX_COLLECTIONS:
        raise Conflict(f"You can have at most {MAX_COLLECTIONS} collections.")
    base = _slug(name)
    slug = base
    n = 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    collection = BackpackCollection(learner_id=pk(learner), slug=slug, name=name)
    savepoint = session.begin_nested()
    try:
        session.add(collection)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict("A collection of this name was just made: reload the page.") from None
    savepoint.commit()
    return collection


def collections(session: Session, learner: Learner) -> list[BackpackCollection]:
    return list(
        session.exec(
            select(BackpackCollection)
            .where(BackpackCollection.learner_id == pk(learner))
            .order_by(col(BackpackCollection.created_at), col(BackpackCollection.id))
        ).all()
    )


def members(session: Session, collection: BackpackCollection) -> list[BackpackItem]:
    return list(
        session.exec(
            select(BackpackItem)
            .join(BackpackCollectionItem, col(BackpackCollectionItem.item_id) == BackpackItem.id)
            .where(BackpackCollectionItem.collection_id == pk(collection))
            .order_by(col(BackpackItem.added_at).desc(), col(BackpackItem.id).desc())
        ).all()
    )


def own_collection(session: Session, learner: Learner, slug: str) -> BackpackCollection:
    found = session.exec(
        select(BackpackCollection).where(
            BackpackCollection.learner_id == pk(learner), BackpackCollection.slug == slug[:40]
        )
    ).first()
    if found is None:
        raise NotFound("There is no such collection.")
    return found


def set_members(
    session: Session, learner: Learner, slug: str, keys: list[str]
) -> BackpackCollection:
    """The collection holds exactly these of the learner's badges (unknown keys: NotFound)."""
    collection = own_collection(session, learner, slug)
    chosen = [backpack_items.own_item(session, learner, key) for key in dict.fromkeys(keys)]
    session.exec(
        delete(BackpackCollectionItem).where(
            col(BackpackCollectionItem.collection_id) == pk(collection)
        )
    )
    for item in chosen:
        session.add(BackpackCollectionItem(collection_id=pk(collection), item_id=pk(item)))
        if item.kind == backpack_items.HUB:
            _show_hub_page(session, item)
    session.flush()
    return collection


def delete_collection(session: Session, learner: Learner, slug: str) -> None:
    collection = own_collection(session, learner, slug)
    session.exec(
        delete(BackpackCollectionItem).where(
            col(BackpackCollectionItem.collection_id) == pk(collection)
        )
    )
    session.delete(collection)
    session.flush()


def public_collection(
    session: Session, handle: str, slug: str
) -> tuple[Learner, BackpackCollection, list[Shared]]:
    learner = public_learner(session, handle)
    found = session.exec(
        select(BackpackCollection).where(
            BackpackCollection.learner_id == pk(learner), BackpackCollection.slug == slug[:40]
        )
    ).first()
    if found is None:
        raise NotFound("There is no such collection.")
    return learner, found, _shared(session, members(session, found))


def public_import(session: Session, handle: str, key: str) -> tuple[Learner, BackpackItem]:
    """An imported badge whose learner shows it (on the profile or in a collection)."""
    learner = public_learner(session, handle)
    item = session.exec(
        select(BackpackItem).where(
            BackpackItem.learner_id == pk(learner),
            BackpackItem.key == key[:32],
            BackpackItem.kind == backpack_items.IMPORT,
        )
    ).first()
    in_collection = (
        item is not None
        and session.exec(
            select(BackpackCollectionItem.id).where(BackpackCollectionItem.item_id == pk(item))
        ).first()
        is not None
    )
    if item is None or not ((item.on_profile and learner.profile_public) or in_collection):
        raise NotFound("There is no public badge at this address.")
    return learner, item


# --- everything, as a zip --------------------------------------------------------------------

_EXTENSIONS = {"json": "json", "jwt": "jwt", "png": "png", "svg": "svg"}


def _account(session: Session, learner: Learner) -> dict[str, Any]:
    sessions = session.exec(
        select(LearnerSession).where(LearnerSession.learner_id == pk(learner))
    ).all()
    return {
        "email": learner.email,
        "handle": learner.handle,
        "display_name": learner.display_name,
        "profile_public": learner.profile_public,
        "created_at": learner.created_at.isoformat(),
        "sessions": [
            {
                "created_at": s.created_at.isoformat(),
                "last_seen_at": s.last_seen_at.isoformat(),
                "user_agent": s.user_agent,
            }
            for s in sessions
        ],
        "collections": [
            {"name": c.name, "slug": c.slug, "badges": [i.key for i in members(session, c)]}
            for c in collections(session, learner)
        ],
    }


def export_zip(
    session: Session, learner: Learner, context: VerificationContext, *, now: datetime | None = None
) -> bytes:
    """Every badge issued to the address and every import, with the account's data: this hub's
    badges as the signed credential (JSON or JWT) and baked PNG and SVG; imports as given
    (and, from a baked image, the credential taken out)."""
    buffer = io.BytesIO()
    listing: list[dict[str, Any]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in backpack_items.issued_to(session, learner):
            folder = f"skills-hub/{record.uuid}"
            extension = "jwt" if record.format == "jwt" else "json"
            archive.writestr(f"{folder}/credential.{extension}", record.signed)
            archive.writestr(f"{folder}/badge.png", images.baked(session, record, "png"))
            archive.writestr(f"{folder}/badge.svg", images.baked(session, record, "svg"))
            listing.append({"folder": folder, "issued_by_this_hub": True})
        for item in backpack_items.imports(session, learner):
            folder = f"imported/{item.key}"
            container = item.container or "json"
            archive.writestr(f"{folder}/as-imported.{_EXTENSIONS[container]}", item.data or b"")
            if container in ("png", "svg"):
                text, kind = backpack_items.credential_text(item, context)
                archive.writestr(f"{folder}/credential.{kind}", text)
            listing.append({"folder": folder, "title": item.title, "issuer": item.issuer_name})
        account = _account(session, learner)
        account["badges"] = listing
        account["exported_at"] = (now or datetime.now(UTC)).isoformat()
        archive.writestr("account.json", json.dumps(account, ensure_ascii=False, indent=2))
    return buffer.getvalue()
