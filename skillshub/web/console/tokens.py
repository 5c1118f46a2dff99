"""The organisation's API tokens (owners only: a token acts for the whole organisation):
create one (its secret shown once, on the answer to the form, never again), list them with
their last use and expiry, revoke one (after a confirmation: it cannot be undone)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import api_tokens
from catalogue.errors import InvalidInput, NotFound
from keys import tokens
from skillshub.web.console.auth import OrgAccess, OwnerDep
from skillshub.web.console.organisation import BASE, base_path
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep
from skillshub.web.i18n import N_, say

router = APIRouter(include_in_schema=False)

TOKENS = f"{BASE}/tokens"
register_notice(
    "token_revoked", N_("The token was revoked: requests with it are refused from now on.")
)
register_action("token.create", N_("created an API token"))
register_action("token.revoke", N_("revoked an API token"))
EXPIRY_CHOICES = [
    ("30", N_("30 days")),
    ("90", N_("90 days")),
    ("365", N_("1 year")),
    ("never", N_("Never")),
]


def _page(
    request: Request,
    access: OrgAccess,
    session: SessionDep,
    *,
    created: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = api_tokens.list_tokens(session, access.user, access.organisation)
    return render(
        request,
        "console/tokens.html",
        {
            "tokens": [(t, tokens.token_state(t)) for t in rows],
            "created": created,
            "form": form or {"name": "", "expires_days": "90"},
            "errors": errors or {},
            "choices": EXPIRY_CHOICES,
            "base": base_path(access),
            "tab": "tokens",
        },
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(TOKENS, response_class=HTMLResponse)
def token_list(request: Request, access: OwnerDep, session: SessionDep) -> Response:
    return _page(request, access, session)


@router.post(TOKENS, response_class=HTMLResponse, dependencies=[CsrfDep])
def create(
    request: Request,
    access: OwnerDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    expires_days: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name, "expires_days": expires_days}
    try:
        secret, record = api_tokens.create_token(
            session,
            access.user,
            access.organisation,
            name,
            expires_days,
            actor=access.actor,
            address=access.address,
        )
    except InvalidInput as exc:
        field = exc.details.get("field", "name") if isinstance(exc.details, dict) else "name"
        return _page(
            request, access, session, form=form, errors={field: exc.message}, status_code=422
        )
    # Shown on this answer only: the page is not stored (no-store) and the secret is not kept.
    created = {"secret": secret, "record": record}
    return _page(request, access, session, created=created, status_code=201)


@router.get(f"{TOKENS}/{{token_id}}/revoke", response_class=HTMLResponse)
def revoke_confirm(
    request: Request, token_id: int, access: OwnerDep, session: SessionDep
) -> Response:
    record = next(
        (
            t
            for t in api_tokens.list_tokens(session, access.user, access.organisation)
            if t.id == token_id
        ),
        None,
    )
    if record is None:
        raise NotFound(f"token {token_id} does not exist")
    return render(
        request,
        "console/confirm.html",
        {
            "title": say(N_("Revoke the API token “%(name)s”?"), name=record.name),
            "paragraphs": [
                say(
                    N_(
                        "Programs using the token %(prefix)s… are refused from the moment you "
                        "confirm. This cannot be undone: they will need a new token."
                    ),
                    prefix=record.prefix,
                ),
            ],
            "action": f"{base_path(access)}/tokens/{token_id}/revoke",
            "button": N_("Revoke the token"),
            "cancel": f"{base_path(access)}/tokens",
        },
        me=access.me,
        organisation=access.organisation,
    )


@router.post(f"{TOKENS}/{{token_id}}/revoke", response_class=HTMLResponse, dependencies=[CsrfDep])
def revoke(request: Request, token_id: int, access: OwnerDep, session: SessionDep) -> Response:
    api_tokens.revoke_token(
        session,
        access.user,
        access.organisation,
        token_id,
        actor=access.actor,
        address=access.address,
    )
    return RedirectResponse(f"{base_path(access)}/tokens?notice=token_revoked", status_code=303)
