"""Who the learner is, for every learner-facing route: the backpack's signed-in learner, and
the one rule of who may manage a credential (`owned_credential`).

A credential is its learner's when the request carries either
- a live claim-link session for it (cookie `shub_learner`, scoped to /credentials/{id}; see
  badges.sharing.delivery): the way in without an account, as before; or
- a live backpack session (cookie `shub_backpack`, path /) of a learner whose verified
  address is the credential's recipient address (the sign-in link proved the address).
Every /credentials/{id}/manage route asks `owned_credential`, so each works for both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request, Response
from sqlmodel import Session

from backpack import accounts
from backpack.items import is_recipient
from backpack.models import Learner, LearnerSession
from badges import issuing
from badges.models import IssuedCredential
from badges.sharing import delivery
from catalogue.base import pk
from skillshub.db import session_scope
from skillshub.settings import Settings
from skillshub.web.deps import SessionDep, get_settings

CLAIM_COOKIE = "shub_learner"
BACKPACK_COOKIE = "shub_backpack"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def backpack_token(request: Request) -> str | None:
    return request.cookies.get(BACKPACK_COOKIE)


def signed_in_learner(request: Request, session: Session) -> Learner | None:
    """The learner of the request's backpack session, or None (nothing is written)."""
    found = accounts.session_for_token(session, backpack_token(request))
    return found[1] if found is not None else None


def _touch_later(request: Request, session_id: int) -> None:
    # After the response, in a writer transaction of its own: a page view (a reader) must
    # not take the write lock for a "last seen" time.
    with session_scope(request.app.state.engine, write=True) as db:
        row = db.get(LearnerSession, session_id)
        if row is not None:
            accounts.touch(db, row)


def current_learner(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> Learner | None:
    """The signed-in learner (their session's last use recorded, a minute at a time)."""
    found = accounts.session_for_token(session, backpack_token(request))
    if found is None:
        return None
    row, learner = found
    if datetime.now(UTC) - row.last_seen_at > accounts.LAST_SEEN_PRECISION:
        if request.method in _SAFE_METHODS:
            background.add_task(_touch_later, request, pk(row))
        else:
            accounts.touch(session, row)
    request.state.learner_session_id = pk(row)
    return learner


LearnerDep = Annotated[Learner | None, Depends(current_learner)]


def set_backpack_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        BACKPACK_COOKIE,
        token,
        max_age=int(settings.backpack_session_ttl.total_seconds()),
        path="/",
        secure=settings.base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def clear_backpack_cookie(response: Response) -> None:
    response.delete_cookie(BACKPACK_COOKIE, path="/")


def owned_credential(
    request: Request, session: Session, credential_id: str
) -> IssuedCredential | None:
    """The credential when this request may manage it (see the module), else None."""
    ttl = get_settings(request).learner_session_ttl
    claimed = delivery.learner_credential(
        session, credential_id, request.cookies.get(CLAIM_COOKIE), ttl=ttl
    )
    if claimed is not None:
        return claimed
    learner = signed_in_learner(request, session)
    if learner is None:
        return None
    record = issuing.find_credential(session, credential_id[:36])
    return record if record is not None and is_recipient(learner, record) else None
