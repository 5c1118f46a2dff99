"""The organisation's endorsements: endorse another provider's published micro-credential (a
signed EndorsementCredential that its awards carry from then on), list and revoke them."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import endorsements as service
from accounts.roles import Role
from catalogue.errors import Conflict, Forbidden, InvalidInput, NotFound
from skillshub.web.console import nav
from skillshub.web.console.auth import IssuerDep, OrgAccess, ViewerDep
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep, SettingsDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)

ENDORSEMENTS = "/console/orgs/{slug}/endorsements"
nav.register(N_("Endorsements"), ENDORSEMENTS, needs=Role.viewer, order=45)
register_notice("endorsed", N_("Endorsed: awards of that micro-credential carry your endorsement."))
register_notice("endorsement_revoked", N_("The endorsement is revoked: verifiers see it so."))
register_action("endorsement.create", N_("endorsed a micro-credential"))
register_action("endorsement.revoke", N_("revoked an endorsement"))


def _page(
    request: Request,
    access: OrgAccess,
    session: SessionDep,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/endorsements.html",
        {
            "rows": service.listed(session, access.user, access.organisation),
            "choices": service.endorsable(session, access.user, access.organisation),
            "form": form or {"micro_credential": "", "comment": "", "valid_until": ""},
            "error": error,
            "can_edit": access.role >= Role.issuer,
            "base": f"/console/orgs/{access.organisation.slug}/endorsements",
        },
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(ENDORSEMENTS, response_class=HTMLResponse)
def endorsements(request: Request, access: ViewerDep, session: SessionDep) -> Response:
    return _page(request, access, session)


def _until(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput("valid until: a date as YYYY-MM-DD") from None
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@router.post(ENDORSEMENTS, response_class=HTMLResponse, dependencies=[CsrfDep])
def endorse(
    request: Request,
    access: IssuerDep,
    session: SessionDep,
    master_key: MasterKeyDep,
    settings: SettingsDep,
    micro_credential: Annotated[str, Form(max_length=80)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    valid_until: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {"micro_credential": micro_credential, "comment": comment, "valid_until": valid_until}
    try:
        with session.begin_nested():
            service.endorse_as(
                session,
                master_key,
                access.user,
                access.organisation,
                slug=micro_credential,
                comment=comment,
                valid_until=_until(valid_until),
                base_url=settings.base_url,
                address=access.address,
                jwt_algorithm=settings.jwt_algorithm,
            )
    except (InvalidInput, Conflict, NotFound, Forbidden) as exc:
        if isinstance(exc, Forbidden) and exc.code != "self_endorsement":
            raise
        return _page(request, access, session, form=form, error=exc.message, status_code=422)
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/endorsements?notice=endorsed", status_code=303
    )


@router.post(
    ENDORSEMENTS + "/{endorsement_uuid}/revoke",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def revoke(
    request: Request,
    endorsement_uuid: str,
    access: IssuerDep,
    session: SessionDep,
    master_key: MasterKeyDep,
    settings: SettingsDep,
) -> Response:
    service.revoke_as(
        session,
        master_key,
        access.user,
        access.organisation,
        endorsement_uuid,
        base_url=settings.base_url,
        address=access.address,
    )
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/endorsements?notice=endorsement_revoked",
        status_code=303,
    )
