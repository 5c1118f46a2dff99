"""OpenID4VCI 1.0 (pre-authorized code flow): the well-known metadata, the credential offer
by reference, the token, nonce and credential endpoints, and the learner's "add to a wallet"
offer on the badge's manage page (its owner only, by the learner pages' own rule).

Errors are the specs' (`{"error", "error_description"}`, see badges.wallet.errors). Every
body is read with a cap before anything else, and parsed by hand: a malformed request is an
OAuth error, never a validation error in another shape.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from badges import sharing
from badges.sharing import page as badge_page
from badges.wallet import issuance, metadata, offers
from badges.wallet.errors import InvalidAccessToken, InvalidCredentialRequest, InvalidTokenRequest
from catalogue.errors import NotFound
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep, SettingsDep
from skillshub.web.i18n import language_of
from skillshub.web.pages import templates
from skillshub.web.routes.learner import _links, _not_owner, _owned

router = APIRouter(tags=["wallet (OpenID4VCI)"])

_NO_STORE = {"Cache-Control": "no-store"}
MAX_TOKEN_REQUEST_BYTES = 16 * 1024
MAX_FORM_FIELDS = 20


async def _read(request: Request, cap: int, error: type[Exception]) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise error(f"the request body is over {cap} bytes")
    return bytes(body)


async def _token_form(request: Request) -> dict[str, list[str]]:
    body = await _read(request, MAX_TOKEN_REQUEST_BYTES, InvalidTokenRequest)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise InvalidTokenRequest("the token request must be application/x-www-form-urlencoded")
    try:
        text = body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise InvalidTokenRequest("the token request is not a valid form") from None


async def _credential_body(request: Request) -> bytes:
    return await _read(request, issuance.MAX_REQUEST_BYTES, InvalidCredentialRequest)


def _json(document: dict[str, Any], **headers: str) -> JSONResponse:
    return JSONResponse(document, headers=headers)


# --- metadata ------------------------------------------------------------------------------


def _issuer_metadata(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    document = metadata.issuer_metadata(session, settings.base_url, settings.jwt_algorithm)
    return _json(document, **{"Cache-Control": "max-age=60"})


@router.get("/.well-known/openid-credential-issuer")
def credential_issuer_metadata(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """Credential Issuer metadata (OpenID4VCI 1.0 §12.2)."""
    if metadata.well_known_suffix(settings.base_url):
        raise _not_here()
    return _issuer_metadata(session, settings)


@router.get("/.well-known/openid-credential-issuer/{path:path}")
def credential_issuer_metadata_at(
    path: str, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """The same, for a BASE_URL with a path (`/.well-known/…/{path}`, §12.2.2)."""
    if f"/{path}".rstrip("/") != metadata.well_known_suffix(settings.base_url) or not path:
        raise _not_here()
    return _issuer_metadata(session, settings)


@router.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata(settings: SettingsDep) -> JSONResponse:
    """OAuth 2.0 Authorization Server metadata (RFC 8414 §3)."""
    if metadata.well_known_suffix(settings.base_url):
        raise _not_here()
    return _json(metadata.authorization_server_metadata(settings.base_url))


@router.get("/.well-known/oauth-authorization-server/{path:path}")
def authorization_server_metadata_at(path: str, settings: SettingsDep) -> JSONResponse:
    if f"/{path}".rstrip("/") != metadata.well_known_suffix(settings.base_url) or not path:
        raise _not_here()
    return _json(metadata.authorization_server_metadata(settings.base_url))


def _not_here() -> NotFound:
    return NotFound("the issuer identifier (BASE_URL) has another path")


# --- offer, token, nonce, credential -------------------------------------------------------


@router.get("/oid4vci/offers/{code}")
def credential_offer(code: str, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """The Credential Offer object a `credential_offer_uri` names (§4.1.3)."""
    document = offers.offer_document(session, code, base_url=settings.base_url)
    return _json(document, **_NO_STORE)


@router.post("/oid4vci/token")
async def token(request: Request, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """Token endpoint: the pre-authorized code grant (§6)."""
    form = await _token_form(request)
    answer = offers.token_response(session, form, token_ttl=settings.wallet_token_ttl)
    return _json(answer, **_NO_STORE)


@router.post("/oid4vci/nonce")
def nonce(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """Nonce endpoint (§7): a fresh c_nonce, for one key proof."""
    value = offers.new_nonce(session, ttl=settings.wallet_nonce_ttl)
    return _json({"c_nonce": value}, **_NO_STORE)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidAccessToken("send the access token as 'Authorization: Bearer <token>'")
    return value.strip()


@router.post("/oid4vci/credential")
async def credential(
    request: Request, session: SessionDep, settings: SettingsDep, master_key: MasterKeyDep
) -> JSONResponse:
    """Credential endpoint (§8): the badge bound to the holder's key."""
    body = await _credential_body(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    answer = issuance.credential_response(
        session,
        master_key,
        access_token=_bearer(request),
        body=body,
        json_body=media_type == "application/json",
        base_url=settings.base_url,
        jwt_algorithm=settings.jwt_algorithm,
        nonce_ttl=settings.wallet_nonce_ttl,
    )
    return _json(answer, **_NO_STORE)


# --- the learner's offer -------------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    png = badge_page.qr_png(text)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@router.post(
    "/credentials/{credential_id}/manage/wallet",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def wallet_offer(
    credential_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    tx_code: Annotated[str, Form(pattern="^[01]?$")] = "",
) -> Response:
    """Make a credential offer for the learner's wallet: a QR code and an
    `openid-credential-offer://` link, valid for SKILLSHUB_WALLET_OFFER_MINUTES."""
    record = _owned(request, session, credential_id)
    if record is None:
        return _not_owner(request)
    offer = offers.create_offer(
        session,
        record,
        base_url=settings.base_url,
        ttl=settings.wallet_offer_ttl,
        tx_code=tx_code == "1",
    )
    session.commit()  # the offer must exist before the e-mail or the wallet can use it
    mail_error = offers.send_tx_code(
        settings, settings.smtp_from, record, offer, language=language_of(request)
    )
    view = sharing.badge_view(session, record, settings.base_url)
    return templates.TemplateResponse(
        request,
        "wallet_offer.html",
        {
            "view": view,
            "links": _links(settings, view),
            "offer": offer,
            "qr": _qr_data_uri(offer.link),
            "mail_error": mail_error,
        },
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )
