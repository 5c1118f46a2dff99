"""The organisation's members: who has which role, invitations by e-mail, role changes and
removal. Every member can see the list (to know whom to ask); changes are for owners
(OwnerDep here, `require_role` again in accounts.members, which also keeps the last owner)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import mail, members
from accounts.members import LastOwner
from accounts.roles import Role
from catalogue.errors import Conflict, InvalidInput
from skillshub.web.console import nav
from skillshub.web.console.auth import OrgAccess, OwnerDep, ViewerDep
from skillshub.web.console.pages import ROLE_NAMES, register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep, SettingsDep
from skillshub.web.errors import http_status
from skillshub.web.i18n import N_, language_of, say

router = APIRouter(include_in_schema=False)

BASE = "/console/orgs/{slug}/organisation"
nav.register(N_("Organisation"), BASE, needs=Role.viewer, order=50)
register_notice("invited", N_("The invitation is on its way. It works once, until it expires."))
register_notice(
    "invitation_cancelled", N_("The invitation was withdrawn: its link no longer works.")
)
register_notice("role_changed", N_("The role was changed. It applies from their next page."))
register_notice("member_removed", N_("The member was removed from the organisation."))
register_notice("left", N_("You left the organisation."))
register_action("member.invite", N_("invited a member"))
register_action("member.invite_cancel", N_("withdrew an invitation"))
register_action("member.join", N_("joined the organisation"))
register_action("member.role_change", N_("changed a member's role"))
register_action("member.remove", N_("removed a member"))
ROLES = [
    (Role.owner, N_("Owner: members, API tokens, keys and e-seals, and everything below")),
    (Role.issuer, N_("Issuer: catalogue, issuing and revoking badges")),
    (Role.viewer, N_("Viewer: sees everything, changes nothing")),
]


def base_path(access: OrgAccess) -> str:
    return BASE.replace("{slug}", access.organisation.slug)


def _members_page(
    request: Request,
    access: OrgAccess,
    session: SessionDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "members": members.list_members(session, access.user, access.organisation),
        "invitations": (
            members.open_invitations(session, access.user, access.organisation)
            if access.role >= Role.owner
            else []
        ),
        "is_owner": access.role >= Role.owner,
        "roles": ROLES,
        "form": form or {"email": "", "role": Role.issuer.value},
        "errors": errors or {},
        "error": error,
        "base": base_path(access),
        "tab": "members",
    }
    return render(
        request,
        "console/members.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(BASE, response_class=HTMLResponse)
def members_page(request: Request, access: ViewerDep, session: SessionDep) -> Response:
    return _members_page(request, access, session)


@router.post(f"{BASE}/members/invite", response_class=HTMLResponse, dependencies=[CsrfDep])
def invite(
    request: Request,
    access: OwnerDep,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    form = {"email": email, "role": role}
    try:
        with session.begin_nested():  # a refusal leaves nothing behind
            invitation, token = members.invite(
                session,
                access.user,
                access.organisation,
                email,
                role,
                actor=access.actor,
                address=access.address,
                ttl=settings.console_password_link_ttl,
            )
    except (InvalidInput, Conflict) as exc:
        field = (
            (exc.details or {}).get("field", "email") if isinstance(exc.details, dict) else "email"
        )
        return _members_page(
            request,
            access,
            session,
            form=form,
            errors={field: exc.message},
            status_code=http_status(exc),
        )
    message = mail.invitation_message(
        settings,
        invitation.email,
        members.invite_url(settings.base_url, token),
        organisation=access.organisation.legal_name,
        role=invitation.role,
        inviter=access.me.user.name or access.me.email,
        expires_at=invitation.expires_at,
        language=language_of(request),
    )
    background.add_task(mail.send, settings, message)  # after the commit: the link works
    return RedirectResponse(f"{base_path(access)}?notice=invited", status_code=303)


@router.post(
    f"{BASE}/invitations/{{invitation_id}}/cancel",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def cancel_invitation(
    request: Request, invitation_id: int, access: OwnerDep, session: SessionDep
) -> Response:
    members.cancel_invitation(
        session,
        access.user,
        access.organisation,
        invitation_id,
        actor=access.actor,
        address=access.address,
    )
    return RedirectResponse(f"{base_path(access)}?notice=invitation_cancelled", status_code=303)


@router.post(
    f"{BASE}/members/{{user_id}}/role", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def change_role(
    request: Request,
    user_id: int,
    access: OwnerDep,
    session: SessionDep,
    role: Annotated[str, Form()] = "",
) -> Response:
    try:
        with session.begin_nested():
            members.change_role(
                session,
                access.user,
                access.organisation,
                user_id,
                role,
                actor=access.actor,
                address=access.address,
            )
    except (LastOwner, InvalidInput) as exc:
        return _members_page(
            request, access, session, error=exc.message, status_code=http_status(exc)
        )
    return RedirectResponse(f"{base_path(access)}?notice=role_changed", status_code=303)


@router.get(f"{BASE}/members/{{user_id}}/remove", response_class=HTMLResponse)
def remove_confirm(
    request: Request, user_id: int, access: OwnerDep, session: SessionDep
) -> Response:
    found = members.member(session, access.user, access.organisation, user_id)
    yourself = found.user.id == access.user.id
    org_name = access.organisation.legal_name
    title = (
        say(N_("Remove yourself from %(organisation)s?"), organisation=org_name)
        if yourself
        else say(
            N_("Remove %(email)s from %(organisation)s?"),
            email=found.user.email,
            organisation=org_name,
        )
    )
    return render(
        request,
        "console/confirm.html",
        {
            "title": title,
            "paragraphs": [
                say(
                    N_(
                        "%(email)s (%(role)s) loses access to this organisation at once. "
                        "Their account stays, with any other organisation it belongs to."
                    ),
                    email=found.user.email,
                    role=say(ROLE_NAMES[found.role]),
                ),
                N_("You can invite them again later."),
            ]
            + ([N_("You will no longer see this organisation.")] if yourself else []),
            "action": f"{base_path(access)}/members/{user_id}/remove",
            "button": N_("Leave the organisation") if yourself else N_("Remove the member"),
            "cancel": base_path(access),
        },
        me=access.me,
        organisation=access.organisation,
    )


@router.post(
    f"{BASE}/members/{{user_id}}/remove", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def remove(request: Request, user_id: int, access: OwnerDep, session: SessionDep) -> Response:
    try:
        with session.begin_nested():
            members.remove_member(
                session,
                access.user,
                access.organisation,
                user_id,
                actor=access.actor,
                address=access.address,
            )
    except LastOwner as exc:
        return _members_page(request, access, session, error=exc.message, status_code=409)
    if user_id == access.user.id:
        return RedirectResponse("/console?notice=left", status_code=303)
    return RedirectResponse(f"{base_path(access)}?notice=member_removed", status_code=303)
