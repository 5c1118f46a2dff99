"""Rendering a console page: the page's own context plus what `console/base.html` needs
(the user, their organisations, the navigation, a notice saying what just happened)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from accounts.roles import Role
from catalogue.models import Organisation
from skillshub.web.console import nav
from skillshub.web.console.auth import ConsoleUser
from skillshub.web.i18n import N_
from skillshub.web.pages import templates

# Every text registered here is English, marked with `N_`: pages show it in the reader's
# language (the `said` filter of skillshub.web.i18n).
# Notices a redirect may name (`?notice=KEY`): fixed texts, so a link cannot put words of its
# own on our page. Page modules add theirs with `register_notice`.
NOTICES: dict[str, str] = {
    "signed_out": N_("You are signed out."),
    "session_revoked": N_("That session was ended: the browser using it is signed out."),
    "password_set": N_("Your password is set, and you are signed in."),
}
NO_STORE = {"Cache-Control": "private, no-store"}
# How the activity lists word an audit action ("credential.revoke" -> "revoked a badge");
# page modules add theirs with `register_action`. Unknown actions show as they are stored.
ACTIONS: dict[str, str] = {
    "user.sign_in": N_("signed in"),
    "user.sign_out": N_("signed out"),
    "user.password_set": N_("set their password"),
    "user.create": N_("created a user"),
    "member.add": N_("added a member"),
    "session.revoke": N_("ended a session"),
}


# The roles' names as the pages show them (`{{ role | said }}`).
ROLE_NAMES: dict[Role, str] = {
    Role.viewer: N_("viewer"),
    Role.issuer: N_("issuer"),
    Role.owner: N_("owner"),
}


def register_notice(key: str, text: str) -> None:
    NOTICES[key] = text


def register_action(action: str, words: str) -> None:
    ACTIONS[action] = words


def action_words(action: str) -> str:
    return ACTIONS.get(action, action)


def notice_of(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    me: ConsoleUser | None = None,
    organisation: Organisation | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A console page. `organisation`: the one the page is about (its entries in the
    navigation); without it, the user's first organisation's entries are shown."""
    current = organisation
    if current is None and me is not None and me.orgs:
        current = me.orgs[0].organisation
    role = me.role_in(current) if me is not None and current is not None else None
    page: dict[str, Any] = {
        "me": me,
        "organisation": current,
        "role": role,
        "nav": nav.links(
            request.url.path,
            current.slug if current else None,
            role,
            operator=me.user.is_operator,
        )
        if me
        else [],
        "notice": notice_of(request),
        **(context or {}),
    }
    return templates.TemplateResponse(
        request,
        template,
        page,
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


def plural(count: int, one: str, many: str | None = None) -> Markup:
    """ "1 badge" / "3 badges" for templates (English only: the console's pages use
    `{% trans count=n %}` instead)."""
    return Markup("{} {}").format(count, one if count == 1 else (many or one + "s"))


templates.env.globals.setdefault("plural", plural)
templates.env.filters.setdefault("action_words", action_words)
