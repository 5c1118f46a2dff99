"""The organisation's signing identity: its issuers (DID, keys with their dates, key
rotation, whether new badges start public) and its e-seal certificate (PKCS#12 import).
Every member reads; owners change (OwnerDep, and `require_role` in accounts.identity)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import identity
from accounts.roles import Role
from catalogue.errors import Conflict, InvalidInput
from skillshub.web.console.auth import OrgAccess, OwnerDep, ViewerDep
from skillshub.web.console.organisation import BASE, base_path
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep
from skillshub.web.errors import http_status
from skillshub.web.i18n import N_, say

router = APIRouter(include_in_schema=False)

IDENTITY = f"{BASE}/identity"
SEAL = f"{BASE}/seal"
register_notice(
    "key_rotated",
    N_("New keys are in use. The old ones stay published, so the badges they signed still verify."),
)
register_notice("sharing_saved", N_("Saved: it applies to badges issued from now on."))
register_notice(
    "seal_imported", N_("The e-seal certificate is imported and in use for Europass exports.")
)
register_action("issuer.rotate_key", N_("rotated an issuer's keys"))
register_action("issuer.sharing_default", N_("changed whether new badges start public"))
register_action("seal.import", N_("imported an e-seal certificate"))


def _identity_page(
    request: Request,
    access: OrgAccess,
    session: SessionDep,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/identity.html",
        {
            "identities": identity.identities(session, access.user, access.organisation),
            "is_owner": access.role >= Role.owner,
            "error": error,
            "base": base_path(access),
            "tab": "identity",
        },
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(IDENTITY, response_class=HTMLResponse)
def identity_page(request: Request, access: ViewerDep, session: SessionDep) -> Response:
    return _identity_page(request, access, session)


@router.get(f"{IDENTITY}/{{issuer_slug}}/rotate", response_class=HTMLResponse)
def rotate_confirm(
    request: Request, issuer_slug: str, access: OwnerDep, session: SessionDep
) -> Response:
    issuer = identity.own_issuer(session, access.organisation, issuer_slug)
    return render(
        request,
        "console/confirm.html",
        {
            "title": say(N_("Give “%(issuer)s” new signing keys?"), issuer=issuer.name),
            "paragraphs": [
                N_(
                    "Badges issued from now on are signed with new keys. The old keys stay "
                    "published (retired), so every badge they signed still verifies."
                ),
                N_(
                    "Do this when a key may have leaked, or on a schedule. It cannot be undone, "
                    "but it can be done again."
                ),
            ],
            "action": f"{base_path(access)}/identity/{issuer.slug}/rotate",
            "button": N_("Rotate the keys"),
            "cancel": f"{base_path(access)}/identity",
        },
        me=access.me,
        organisation=access.organisation,
    )


@router.post(
    f"{IDENTITY}/{{issuer_slug}}/rotate", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def rotate(
    request: Request,
    issuer_slug: str,
    access: OwnerDep,
    session: SessionDep,
    master_key: MasterKeyDep,
) -> Response:
    try:
        with session.begin_nested():
            identity.rotate_keys(
                session,
                master_key,
                access.user,
                access.organisation,
                issuer_slug,
                actor=access.actor,
                address=access.address,
            )
    except Conflict as exc:  # a did:key issuer: its DID is its one key
        return _identity_page(request, access, session, error=exc.message, status_code=409)
    return RedirectResponse(f"{base_path(access)}/identity?notice=key_rotated", status_code=303)


@router.post(
    f"{IDENTITY}/{{issuer_slug}}/sharing", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def sharing(
    request: Request,
    issuer_slug: str,
    access: OwnerDep,
    session: SessionDep,
    public_by_default: Annotated[str, Form()] = "",
) -> Response:
    identity.set_sharing_default(
        session,
        access.user,
        access.organisation,
        issuer_slug,
        public_by_default == "1",
        actor=access.actor,
        address=access.address,
    )
    return RedirectResponse(f"{base_path(access)}/identity?notice=sharing_saved", status_code=303)


def _seal_page(
    request: Request,
    access: OrgAccess,
    session: SessionDep,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    certificates = identity.seal_certificates(session, access.user, access.organisation)
    context: dict[str, Any] = {
        "certificates": certificates,
        "active": next((c for c in certificates if c.record.active), None),
        "is_owner": access.role >= Role.owner,
        "errors": errors or {},
        "max_kib": identity.MAX_PKCS12_BYTES // 1024,
        "base": base_path(access),
        "tab": "seal",
    }
    return render(
        request,
        "console/seal.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(SEAL, response_class=HTMLResponse)
def seal_page(request: Request, access: ViewerDep, session: SessionDep) -> Response:
    return _seal_page(request, access, session)


@router.post(SEAL, response_class=HTMLResponse, dependencies=[CsrfDep])
def seal_import(
    request: Request,
    access: OwnerDep,
    session: SessionDep,
    master_key: MasterKeyDep,
    pkcs12: Annotated[UploadFile | None, File()] = None,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Import a PKCS#12 file. The password opens it here and nowhere else: it is not stored,
    not logged, and not shown again (the form comes back with the field empty)."""
    # The form (file included) was read before the session opened (FastAPI parses the body
    # first), so a slow upload holds no database lock.
    data = pkcs12.file.read(identity.MAX_PKCS12_BYTES + 1) if pkcs12 is not None else b""
    try:
        identity.import_seal(
            session,
            master_key,
            access.user,
            access.organisation,
            data,
            password,
            actor=access.actor,
            address=access.address,
        )
    except (InvalidInput, Conflict) as exc:
        field = exc.details.get("field", "pkcs12") if isinstance(exc.details, dict) else "pkcs12"
        return _seal_page(
            request, access, session, errors={field: exc.message}, status_code=http_status(exc)
        )
    return RedirectResponse(f"{base_path(access)}/seal?notice=seal_imported", status_code=303)
