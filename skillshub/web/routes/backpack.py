"""The learner's backpack: sign-in by e-mail link, my badges, import, share, leave; and the
public profile pages. Thin: the services are in `backpack`; who the learner is comes from
skillshub.web.learner_auth.

Sign-in: `POST /backpack/sign-in` answers the same for every well-formed address (known or
not) and mails the link after the response; requests are limited per client address (the
route table) and mails per address asked for (BACKPACK_SIGN_IN_EMAIL: beyond it no more mail
goes out, the answer is the same). The link opens a page with a button (a POST, so a mail
scanner that follows links does not spend it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from accounts import mail
from backpack import accounts, items, leave, sharing
from backpack.models import Learner
from badges.report import Verdict, VerificationReport
from badges.verifying import VerificationContext
from badges.verifying.plain import headline
from catalogue.errors import DomainError, InvalidInput
from skillshub.db import session_scope
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import ContextDep, SessionDep, SettingsDep, read_only
from skillshub.web.errors import http_status
from skillshub.web.i18n import (
    DEFAULT,
    N_,
    human_day,
    known_message,
    language_of,
    translations,
)
from skillshub.web.learner_auth import (
    LearnerDep,
    backpack_token,
    clear_backpack_cookie,
    set_backpack_cookie,
    signed_in_learner,
)
from skillshub.web.pages import templates
from skillshub.web.rate_limits import RateClass, RateLimited, limiter

router = APIRouter(tags=["backpack"], include_in_schema=False)

SIGN_IN = "/backpack/sign-in"
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin"}
NO_REFERRER = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
NOTICES = {
    "signed_in": "You are signed in.",
    "claimed": "The badge is in your backpack.",
    "claimed_all": "Every badge awarded to your address is in your backpack.",
    "imported": "The badge was checked and added to your backpack.",
    "already": "This badge was in your backpack already.",
    "removed": "The badge was taken out of your backpack.",
    "profile": "Your profile settings are saved.",
    "collection": "The collection is saved.",
    "collection_deleted": "The collection was deleted.",
    "session_ended": "That browser is signed out.",
    "shown": "The badge is on your profile; its page is public.",
    "hidden": "The badge is no longer on your profile.",
}
# backpack/sharing.py's message on the public profile's error page, shown translated there.
_PROFILE_MISSING = N_("There is no public profile at this address.")
# backpack/sharing.py's refusals of the profile form (the share page shows them translated),
# and this module's own refusal of the leave form.
_PROFILE_REFUSALS = (
    N_(
        "A handle has 3 to 30 letters (a to z), digits or hyphens, and starts and ends with a "
        "letter or digit."
    ),
    N_("The name is at most 100 characters."),
)
_LEAVE_UNCONFIRMED = N_("Tick the box to confirm that you want to delete your account.")
known_message(
    r"The handle “(?P<handle>.*)” is taken: choose another\.",
    N_("The handle “%(handle)s” is taken: choose another."),
)
# The collections' refusals (backpack/sharing.py) and the badges' (backpack/items.py), shown
# on the error page, and this module's refusals of the import form.
_BACKPACK_REFUSALS = (
    N_("A collection needs a name of 1 to 100 characters."),
    N_("A collection of this name was just made: reload the page."),
    N_("There is no such collection."),
    N_("There is no such badge in your backpack."),
    N_("There is no badge for your address at this address."),
    N_("There is no public badge at this address."),
    N_("There is no such session."),
    N_("Your account no longer exists."),
    N_("The link must start with https://"),
    N_("Give a badge: upload a file, paste it, or enter a link."),
)
for _pattern, _message in (
    (
        r"You can have at most (?P<count>\d+) collections\.",
        N_("You can have at most %(count)s collections."),
    ),
    (
        r"A backpack holds at most (?P<count>\d+) imported badges\.",
        N_("A backpack holds at most %(count)s imported badges."),
    ),
):
    known_message(_pattern, _message)


def _render(
    request: Request,
    name: str,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return templates.TemplateResponse(
        request,
        name,
        {"notice": notice, **values},
        status_code=status_code,
        headers=headers or PRIVATE,
    )


def _to(path: str, notice: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"{path}?notice={notice}" if notice else path, status_code=303)


def _sign_in_first() -> RedirectResponse:
    return RedirectResponse(SIGN_IN, status_code=303)


# --- sign-in -------------------------------------------------------------------------------


def _email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@router.get(SIGN_IN, response_class=HTMLResponse)
def sign_in_form(request: Request, learner: LearnerDep) -> Response:
    if learner is not None:
        return _to("/backpack")
    return _render(request, "backpack/sign_in.html", {"email": ""}, headers=NO_REFERRER)


@router.post(SIGN_IN, response_class=HTMLResponse, dependencies=[CsrfDep])
def sign_in_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    values: dict[str, Any] = {"email": email}
    try:
        found = None
        limiter(request).hit(RateClass.BACKPACK_SIGN_IN_EMAIL, _email_key(email))
        found = accounts.request_link(
            session,
            settings,
            settings.base_url,
            email,
            ttl=settings.backpack_link_ttl,
            language=language_of(request),
        )
    except InvalidInput as exc:  # a typo gets its message; it says nothing about accounts
        values["error"] = exc.message
        return _render(request, "backpack/sign_in.html", values, status_code=422)
    except RateLimited:
        pass  # the same answer, no mail
    if found is not None:
        # After the response (and so after the commit): the link works when the mail lands.
        background.add_task(mail.send, settings, found.message)
    values["sent"] = True
    return _render(request, "backpack/sign_in.html", values, headers=NO_REFERRER)


@router.get(accounts.LINK_PATH, response_class=HTMLResponse)
def sign_in_link(request: Request, session: SessionDep, token: str = "") -> Response:
    try:
        email = accounts.check_link(session, token)
    except accounts.SignInLinkInvalid as exc:
        values = {"problem": exc.message}
        return _render(
            request, "backpack/sign_in.html", values, status_code=404, headers=NO_REFERRER
        )
    return _render(
        request,
        "backpack/sign_in_link.html",
        {"token": token, "email": email},
        headers=NO_REFERRER,
    )


@router.post(accounts.LINK_PATH, response_class=HTMLResponse, dependencies=[CsrfDep])
def sign_in_finish(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        _learner, session_token = accounts.redeem_link(
            session,
            token,
            ttl=settings.backpack_session_ttl,
            user_agent=request.headers.get("user-agent"),
        )
    except accounts.SignInLinkInvalid as exc:
        values = {"problem": exc.message}
        return _render(
            request, "backpack/sign_in.html", values, status_code=404, headers=NO_REFERRER
        )
    response = _to("/backpack", "signed_in")
    set_backpack_cookie(response, settings, session_token)
    return response


@router.post("/backpack/sign-out", response_class=HTMLResponse, dependencies=[CsrfDep])
def sign_out(request: Request, session: SessionDep) -> Response:
    accounts.end_session(session, backpack_token(request))
    response = RedirectResponse("/", status_code=303)
    clear_backpack_cookie(response)
    return response


@router.get("/backpack/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, session: SessionDep, learner: LearnerDep) -> Response:
    if learner is None:
        return _sign_in_first()
    rows = accounts.list_sessions(session, learner)
    current = getattr(request.state, "learner_session_id", None)
    return _render(
        request, "backpack/sessions.html", {"learner": learner, "rows": rows, "current": current}
    )


@router.post(
    "/backpack/sessions/{session_id}/end", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def end_one_session(
    session_id: int, request: Request, session: SessionDep, learner: LearnerDep
) -> Response:
    if learner is None:
        return _sign_in_first()
    accounts.revoke_session(session, learner, session_id)
    return _to("/backpack/sessions", "session_ended")


@router.post("/backpack/sessions/end-all", response_class=HTMLResponse, dependencies=[CsrfDep])
def sign_out_everywhere(request: Request, session: SessionDep, learner: LearnerDep) -> Response:
    if learner is None:
        return _sign_in_first()
    accounts.end_all_sessions(session, learner)
    response = RedirectResponse("/", status_code=303)
    clear_backpack_cookie(response)
    return response


# --- my badges -----------------------------------------------------------------------------


def _imported(context: VerificationContext, rows: list) -> list[dict[str, Any]]:
    shown = []
    for badge in items.reverify(context, rows):
        report = badge.report
        shown.append(
            {
                "item": badge.item,
                "report": report,
                "headline": headline(report) if report is not None else None,
                "valid": report is not None and report.verdict is Verdict.VALID,
                "problem": badge.problem,
            }
        )
    return shown


@router.get("/backpack", response_class=HTMLResponse)
async def my_badges(
    request: Request, context: ContextDep, settings: SettingsDep, learner: LearnerDep
) -> Response:
    """Every badge of this hub awarded to the address, and the imports, verified again."""
    if learner is None:
        return _render(request, "backpack/sign_in.html", {"email": "", "landing": True})
    session = context.session
    assert session is not None

    def load() -> dict[str, Any]:
        return {
            "learner": learner,
            "hub": items.hub_badges(session, learner, settings.base_url),
            "imported": _imported(context, items.imports(session, learner)),
        }

    return _render(request, "backpack/badges.html", await run_in_threadpool(load))


@router.post("/backpack/claim", response_class=HTMLResponse, dependencies=[CsrfDep])
def claim(
    request: Request,
    session: SessionDep,
    learner: LearnerDep,
    credential: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Add one badge (`credential`) or, without one, every badge of the address."""
    if learner is None:
        return _sign_in_first()
    if credential:
        items.claim(session, learner, credential)
        return _to("/backpack", "claimed")
    items.claim_all(session, learner)
    return _to("/backpack", "claimed_all")


# --- import --------------------------------------------------------------------------------


@router.get("/backpack/import", response_class=HTMLResponse)
def import_form(request: Request, learner: LearnerDep) -> Response:
    if learner is None:
        return _sign_in_first()
    return _render(request, "backpack/import.html", {"learner": learner})


async def _import_input(request: Request) -> bytes | str:
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read()
    for name in ("credential", "url"):
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            if name == "url" and not value.strip().startswith(("https://", "http://")):
                raise InvalidInput("The link must start with https://")
            return value.strip()
    raise InvalidInput("Give a badge: upload a file, paste it, or enter a link.")


@dataclass(frozen=True)
class _Refused:
    """An import the verifier did not find valid, on the page: its verdict and plain sentence
    (badges/verifying/plain.py) in the reader's words, with the dates in the reader's form;
    the failed check's own message as the verifier wrote it (as on the verify page). In
    English: the service's text as it is."""

    english: str
    report: VerificationReport

    def __str__(self) -> str:
        return self.english

    def in_language(self, language: str) -> str:
        if language == DEFAULT:
            return self.english
        line = headline(self.report)
        values = {
            k: human_day(language, v) if k in _DAYS and v else (v or "")
            for k, v in line.values.items()
        }
        words = translations(language)
        problem = items.first_problem(self.report)
        detail = f" ({problem})" if problem else ""
        return (
            f"{words.gettext(line.title) % values}: {words.gettext(line.sentence) % values}{detail}"
        )


_DAYS = frozenset({"when", "until", "since"})


def _import_refusal(exc: DomainError) -> str | _Refused:
    if isinstance(exc, items.ImportRefused) and exc.report is not None:
        return _Refused(exc.message, exc.report)
    return exc.message


@router.post("/backpack/import", response_class=HTMLResponse, dependencies=[CsrfDep])
@read_only
async def import_badge(request: Request, context: ContextDep) -> Response:
    """Verify first on a reader (fetching may take seconds: no write lock held meanwhile),
    then store in a short writer transaction of its own."""
    session = context.session
    assert session is not None
    learner = signed_in_learner(request, session)
    if learner is None:
        return _sign_in_first()
    try:
        given = await _import_input(request)
        checked = await run_in_threadpool(items.check_import, context, given)
    except DomainError as exc:
        values = {"learner": learner, "error": _import_refusal(exc)}
        return _render(request, "backpack/import.html", values, status_code=http_status(exc))
    learner_id = learner.id

    def store() -> bool:
        with session_scope(request.app.state.engine) as db:
            owner = db.get(Learner, learner_id)
            if owner is None:
                raise InvalidInput("Your account no longer exists.")
            return items.add_import(db, owner, checked)[1]

    created = await run_in_threadpool(store)
    return _to("/backpack", "imported" if created else "already")


@router.get("/backpack/badges/{key}", response_class=HTMLResponse)
async def imported_badge(
    key: str, request: Request, context: ContextDep, learner: LearnerDep
) -> Response:
    if learner is None:
        return _sign_in_first()
    session = context.session
    assert session is not None
    item = items.own_item(session, learner, key)
    [shown] = await run_in_threadpool(_imported, context, [item])
    return _render(request, "backpack/imported.html", {"learner": learner, "badge": shown})


@router.get("/backpack/badges/{key}/download", response_model=None)
def download_import(
    key: str, request: Request, context: ContextDep, learner: LearnerDep
) -> Response:
    if learner is None:
        return _sign_in_first()
    assert context.session is not None
    item = items.own_item(context.session, learner, key)
    return _import_file(item, context)


def _import_file(item: Any, context: VerificationContext) -> Response:
    text, kind = items.credential_text(item, context)
    media_type = "application/jwt" if kind == "jwt" else "application/ld+json"
    headers = {
        "Content-Disposition": f'attachment; filename="badge-{item.key}.{kind}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(text, media_type=media_type, headers=headers)


@router.post("/backpack/badges/{key}/remove", response_class=HTMLResponse, dependencies=[CsrfDep])
def remove_badge(key: str, session: SessionDep, learner: LearnerDep) -> Response:
    if learner is None:
        return _sign_in_first()
    items.remove(session, learner, key)
    return _to("/backpack", "removed")


@router.post("/backpack/badges/{key}/profile", response_class=HTMLResponse, dependencies=[CsrfDep])
def badge_on_profile(
    key: str,
    session: SessionDep,
    learner: LearnerDep,
    shown: Annotated[str, Form(pattern="^[01]$")],
) -> Response:
    if learner is None:
        return _sign_in_first()
    sharing.set_on_profile(session, learner, key, shown == "1")
    return _to("/backpack/share", "shown" if shown == "1" else "hidden")


# --- share ---------------------------------------------------------------------------------


def _share_values(request: Request, session: Any, learner: Learner, settings: Any) -> dict:
    held = [b for b in items.hub_badges(session, learner, settings.base_url) if b.item]
    collections = sharing.collections(session, learner)
    return {
        "learner": learner,
        "hub": held,
        "imported": items.imports(session, learner),
        "collections": [(c, {i.key for i in sharing.members(session, c)}) for c in collections],
        "base_url": settings.base_url,
    }


@router.get("/backpack/share", response_class=HTMLResponse)
def share_page(
    request: Request, session: SessionDep, settings: SettingsDep, learner: LearnerDep
) -> Response:
    if learner is None:
        return _sign_in_first()
    return _render(
        request, "backpack/share.html", _share_values(request, session, learner, settings)
    )


@router.post("/backpack/share/profile", response_class=HTMLResponse, dependencies=[CsrfDep])
def save_profile(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    learner: LearnerDep,
    handle: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    public: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    if learner is None:
        return _sign_in_first()
    try:
        sharing.set_profile(session, learner, handle=handle, display_name=name, public=bool(public))
    except DomainError as exc:
        values = _share_values(request, session, learner, settings)
        values |= {"profile_error": exc.message, "typed_handle": handle}
        return _render(request, "backpack/share.html", values, status_code=http_status(exc))
    return _to("/backpack/share", "profile")


@router.post("/backpack/share/collections", response_class=HTMLResponse, dependencies=[CsrfDep])
def new_collection(
    session: SessionDep,
    learner: LearnerDep,
    name: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    if learner is None:
        return _sign_in_first()
    sharing.create_collection(session, learner, name)
    return _to("/backpack/share", "collection")


@router.post(
    "/backpack/share/collections/{slug}", response_class=HTMLResponse, dependencies=[CsrfDep]
)
async def save_collection(slug: str, request: Request, session: SessionDep) -> Response:
    learner = signed_in_learner(request, session)
    if learner is None:
        return _sign_in_first()
    form = await request.form(max_files=0, max_fields=items.MAX_HUB_BADGES + items.MAX_IMPORTS)
    keys = [k for k in form.getlist("badge") if isinstance(k, str)]
    sharing.set_members(session, learner, slug, keys)
    return _to("/backpack/share", "collection")


@router.post(
    "/backpack/share/collections/{slug}/delete",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def remove_collection(slug: str, session: SessionDep, learner: LearnerDep) -> Response:
    if learner is None:
        return _sign_in_first()
    sharing.delete_collection(session, learner, slug)
    return _to("/backpack/share", "collection_deleted")


@router.get("/backpack/download", response_model=None)
async def download_all(request: Request, context: ContextDep, learner: LearnerDep) -> Response:
    """Everything, as a zip: the signed credentials, baked images, imports, account data."""
    if learner is None:
        return _sign_in_first()
    assert context.session is not None
    data = await run_in_threadpool(sharing.export_zip, context.session, learner, context)
    headers = {
        "Content-Disposition": 'attachment; filename="my-badges.zip"',
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type="application/zip", headers=headers)


# --- leave ---------------------------------------------------------------------------------


@router.get("/backpack/leave", response_class=HTMLResponse)
def leave_page(request: Request, session: SessionDep, learner: LearnerDep) -> Response:
    if learner is None:
        return _sign_in_first()
    count = len(items.issued_to(session, learner))
    return _render(request, "backpack/leave.html", {"learner": learner, "hub_count": count})


@router.post("/backpack/leave", response_class=HTMLResponse, dependencies=[CsrfDep])
def delete_account(
    request: Request,
    session: SessionDep,
    learner: LearnerDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if learner is None:
        return _sign_in_first()
    if confirm != "yes":
        values = {
            "learner": learner,
            "hub_count": len(items.issued_to(session, learner)),
            "error": _LEAVE_UNCONFIRMED,
        }
        return _render(request, "backpack/leave.html", values, status_code=422)
    leave.delete_account(session, learner)
    response = _to("/backpack/left")
    clear_backpack_cookie(response)
    return response


@router.get("/backpack/left", response_class=HTMLResponse)
def left_page(request: Request) -> Response:
    return _render(request, "backpack/left.html", {})


# --- public pages --------------------------------------------------------------------------

PUBLIC = {"Cache-Control": "no-cache", "Referrer-Policy": "strict-origin-when-cross-origin"}


def _public_values(session: Any, settings: Any, shared: list[sharing.Shared]) -> list[dict]:
    from badges.sharing.page import badge_view

    cards = []
    for entry in shared:
        if entry.record is not None:
            view = badge_view(session, entry.record, settings.base_url)
            cards.append(
                {
                    "title": view.achievement_name,
                    "issuer": view.issuer_name,
                    "status": view.status,
                    "href": f"/credentials/{view.uuid}",
                    "image": f"/credentials/{view.uuid}/badge.png",
                    "date": view.valid_from,
                }
            )
        else:
            cards.append(
                {
                    "title": entry.item.title,
                    "issuer": entry.item.issuer_name,
                    "status": None,
                    "key": entry.item.key,
                    "date": entry.item.added_at,
                }
            )
    return cards


@router.get("/profiles/{handle}", response_class=HTMLResponse)
def public_profile(
    handle: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        learner, shared = sharing.profile(session, handle)
    except DomainError as exc:
        return _public_missing(request, exc)
    cards = _public_values(session, settings, shared)
    for card in cards:
        if "key" in card:
            card["href"] = f"/profiles/{learner.handle}/badges/{card['key']}"
    values = {"owner": learner, "cards": cards, "base_url": settings.base_url, "collection": None}
    return _render(request, "backpack/profile.html", values, headers=PUBLIC)


@router.get("/profiles/{handle}/collections/{slug}", response_class=HTMLResponse)
def public_collection(
    handle: str, slug: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        learner, collection, shared = sharing.public_collection(session, handle, slug)
    except DomainError as exc:
        return _public_missing(request, exc)
    cards = _public_values(session, settings, shared)
    for card in cards:
        if "key" in card:
            card["href"] = f"/profiles/{learner.handle}/badges/{card['key']}"
    values = {
        "owner": learner,
        "cards": cards,
        "base_url": settings.base_url,
        "collection": collection,
    }
    return _render(request, "backpack/profile.html", values, headers=PUBLIC)


@router.get("/profiles/{handle}/badges/{key}", response_class=HTMLResponse)
async def public_imported(
    handle: str, key: str, request: Request, context: ContextDep, settings: SettingsDep
) -> Response:
    assert context.session is not None
    try:
        learner, item = sharing.public_import(context.session, handle, key)
    except DomainError as exc:
        return _public_missing(request, exc)
    [shown] = await run_in_threadpool(_imported, context, [item])
    values = {"owner": learner, "badge": shown, "base_url": settings.base_url}
    return _render(request, "backpack/public_badge.html", values, headers=PUBLIC)


@router.get("/profiles/{handle}/badges/{key}/download", response_model=None)
def public_imported_download(handle: str, key: str, context: ContextDep) -> Response:
    assert context.session is not None
    _learner, item = sharing.public_import(context.session, handle, key)
    return _import_file(item, context)


def _public_missing(request: Request, exc: DomainError) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "learner_error.html",
        {"title": N_("No public profile here"), "message": exc.message},
        status_code=http_status(exc),
        headers={"Cache-Control": "no-store"},
    )
