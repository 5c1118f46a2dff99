"""The learner's side: claim link, learner view, public badge page, QR codes, baked images,
and the provider's badge image upload.

Visibility: a credential's page and everything derived from it (JSON/JWT, baked images, QR
codes) is served to everyone when the credential is public, to its learner (session cookie,
see badges.sharing.delivery) always, and to nobody else: 404, the same as for an unknown id.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.routing import Match

from badges import issuing, sharing
from badges.europass import europass_refusal
from badges.issuing import issuers
from badges.models import IssuedCredential
from badges.sharing import delivery, images
from catalogue.base import pk
from catalogue.errors import DomainError, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from catalogue.micro_credentials import get_micro_credential, own_micro_credential
from catalogue.text import Line
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from skillshub.web import learner_auth
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import ApiCallerDep, OrgDep, SessionDep, SettingsDep
from skillshub.web.errors import NotAcceptable, http_status
from skillshub.web.i18n import N_, known_message
from skillshub.web.negotiation import preferred_kind
from skillshub.web.pages import templates

router = APIRouter(tags=["learner"])

COOKIE = learner_auth.CLAIM_COOKIE
_DIGITS = re.compile(r"[0-9]+")
JSONLD = "application/ld+json"
JWT = "application/jwt"
# An uploaded SVG is served from our origin: it may draw, never run or fetch anything.
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
# What the page offers, per kind, in order of preference within the kind.
_OFFERS = {
    "html": ("text/html", "application/xhtml+xml"),
    "json": ("application/ld+json", "application/json", "application/vc+ld+json"),
    "jwt": ("application/jwt", "application/vc+jwt"),
}
# Page titles and messages are English msgids: learner_error.html shows them `translated`.
_CLAIM_ERROR_TITLES = {
    "claim_not_found": N_("This claim link is not valid"),
    "claim_used": N_("This badge was already claimed"),
    "claim_expired": N_("This claim link has expired"),
}
# What badges/sharing/delivery.py and badges/europass/export.py say in these pages, for the
# German catalogue (a message not listed is shown as the domain wrote it).
_DOMAIN_MESSAGES = (
    N_("this claim link is not valid"),
    N_(
        "this claim link was already used; open the badge in the browser you claimed it "
        "with, or ask the issuer for a new link"
    ),
    N_("this claim link has expired; ask the issuer for a new link"),
    N_("this claim link was already used or replaced by a newer one"),
    N_("This badge was revoked, so Europass would refuse it."),
    N_("This badge is suspended for now, so Europass would refuse it."),
    N_(
        "This badge does not award one of the catalogue's micro-credentials, and only those "
        "can go to Europass."
    ),
)
# badges/europass/export.py's refusals that name the provider, translated with its name.
for _pattern, _message in (
    (
        r"Not available yet: Europass accepts only credentials sealed with a qualified "
        r"electronic seal, and (?P<org>.+) has not set one up\. Ask them to, or share the "
        r"badge another way meanwhile\.",
        N_(
            "Not available yet: Europass accepts only credentials sealed with a qualified "
            "electronic seal, and %(org)s has not set one up. Ask them to, or share the badge "
            "another way meanwhile."
        ),
    ),
    (
        r"Not available: (?P<org>.+)'s electronic seal is a test certificate, which Europass "
        r"does not accept\. Ask them to set up a qualified e-seal\.",
        N_(
            "Not available: %(org)s's electronic seal is a test certificate, which Europass "
            "does not accept. Ask them to set up a qualified e-seal."
        ),
    ),
    (
        r"Not available: (?P<org>.+)'s electronic seal is not from a trust service that "
        r"Europass accepts as qualified\. Ask them to use a qualified e-seal\.",
        N_(
            "Not available: %(org)s's electronic seal is not from a trust service that "
            "Europass accepts as qualified. Ask them to use a qualified e-seal."
        ),
    ),
    # The seal's expiry day (the service writes "05 March 2026"), in the reader's form.
    (
        r"Not available: (?P<org>.+)'s electronic seal expired on (?P<date>\d{1,2} \w+ \d{4})\. "
        r"Ask them to renew it\.",
        N_("Not available: %(org)s's electronic seal expired on %(date)s. Ask them to renew it."),
    ),
    # What the micro-credential lacks (badges/europass/export.py check_exportable), each item
    # translated and the list written as the reader's language writes one.
    (
        r"Europass needs (?P<items>.+), which the provider has not given for this badge yet\.",
        N_("Europass needs %(items)s, which the provider has not given for this badge yet."),
    ),
):
    known_message(_pattern, _message)
_EUROPASS_MISSING = (
    N_("ECTS credits (the notional workload in ECTS)"),
    N_("an EQF level"),
    N_("learning outcomes"),
    N_("required details"),
)
# Why an e-mail was not sent (badges/sharing/mail.py, badges/wallet/offers.py send_tx_code):
# the wallet offer page says it; the server's own words (an OSError's) stay as they are.
for _pattern, _message in (
    (
        r"SMTP delivery via (?P<server>\S+) failed: (?P<problem>.+)",
        N_("SMTP delivery via %(server)s failed: %(problem)s"),
    ),
    (
        r"the server refused the recipient \(SMTP (?P<codes>[\d, ]+)\)",
        N_("the server refused the recipient (SMTP %(codes)s)"),
    ),
    (
        r"the e-mail could not be sent \((?P<error>\w+)\)",
        N_("the e-mail could not be sent (%(error)s)"),
    ),
    (
        r"EMAIL_BACKEND must be one of (?P<backends>.+), not (?P<backend>.+)",
        N_("EMAIL_BACKEND must be one of %(backends)s, not %(backend)s"),
    ),
):
    known_message(_pattern, _message)
_MAIL_ERRORS = (N_("EMAIL_BACKEND=smtp needs SMTP_HOST"),)


# --- helpers -------------------------------------------------------------------------------


def negotiate(accept: str, native: str) -> tuple[str, str] | None:
    """(kind, media type) for an Accept header; kind is html, json or jwt, and `native` (the
    credential's own form) wins ties. None when nothing offered is acceptable."""
    return preferred_kind(accept, _OFFERS, native)


def _owned(request: Request, session: Session, credential_id: str) -> IssuedCredential | None:
    """The learner's authority over a credential: a claim-link session or a signed-in
    backpack learner of its recipient address (skillshub.web.learner_auth)."""
    return learner_auth.owned_credential(request, session, credential_id)


def _visible(
    request: Request, session: Session, credential_id: str
) -> tuple[IssuedCredential, bool] | None:
    """(credential, seen by its learner) when this request may see it, else None."""
    owned = _owned(request, session, credential_id)
    if owned is not None:
        return owned, True
    record = issuing.find_credential(session, credential_id)
    return (record, False) if record is not None and record.public else None


def _visible_record(request: Request, session: Session, credential_id: str) -> IssuedCredential:
    """The credential this request may see, or NotFound (the same as for an unknown id)."""
    found = _visible(request, session, credential_id)
    if found is None:
        raise NotFound("no public credential at this address")
    return found[0]


def _cache_headers(record: IssuedCredential) -> dict[str, str]:
    # Public answers are revalidated every time: hiding a page must take effect at once.
    return {
        "Cache-Control": "no-cache" if record.public else "private, no-store",
        "Vary": "Accept, Cookie",
    }


def _error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "learner_error.html",
        {"title": title, "message": message},
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _not_found(request: Request, html: bool) -> Response:
    if html:
        return _error_page(
            request,
            404,
            N_("No public badge here"),
            N_(
                "There is no public badge at this address: it does not exist, or its owner "
                "keeps it private."
            ),
        )
    raise NotFound("no public credential at this address")


def _europass_url(request: Request, credential_id: str) -> str | None:
    """The Europass export, when the app has one (another part of the hub provides it):
    asked of the router itself, as dispatch would, so nested routers are found too."""
    path = f"/credentials/{credential_id}/europass"
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "app": request.app}
    routes = request.app.router.routes
    return path if any(r.matches(scope)[0] is Match.FULL for r in routes) else None


def _links(settings: Settings, view: sharing.BadgeView) -> dict[str, str]:
    base = f"/credentials/{view.uuid}"
    slug = view.micro_credential_slug
    return {
        "page": view.url,
        "badge_png": f"{base}/badge.png",
        "badge_svg": f"{base}/badge.svg",
        "badge_png_absolute": f"{settings.base_url}{base}/badge.png",
        "qr_png": f"{base}/qr.png",
        "qr_svg": f"{base}/qr.svg",
        "download": f"{base}/download",
        "manage": f"{base}/manage",
        "verify": f"/verify?url={quote(view.url, safe='')}",
        # Empty for a VC-API credential that awards none of our micro-credentials.
        "micro_credential": f"/micro-credentials/{quote(slug)}" if slug else "",
        "issuer": f"/issuers/{quote(view.issuer_slug)}",
    }


def _seal_trust_anchors(request: Request) -> tuple[Any, ...]:
    """SKILLSHUB_SEAL_TRUST_ANCHORS, as the app's verifier loaded them (once)."""
    state = request.app.state
    if getattr(state, "verification", None) is None:
        state.verification = verification_context(state.settings)
    return state.verification.trust_anchors


def _wallet_blocked(record: IssuedCredential) -> str | None:
    """Why the badge cannot go to a wallet now (None: it can)."""
    if record.revoked_at is not None:
        return N_("This badge was revoked: it cannot be added to a wallet.")
    if record.suspended:
        return N_(
            "This badge is suspended: it cannot be added to a wallet until the issuer lifts that."
        )
    return None


def _set_learner_cookie(
    response: Response, settings: Settings, credential_id: str, token: str
) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.learner_session_ttl.total_seconds()),
        path=f"/credentials/{credential_id}",
        secure=settings.base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


# --- the public badge page -----------------------------------------------------------------


@router.get("/credentials/{credential_id}", response_model=None)
def credential_page(
    credential_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The badge page for browsers; the signed credential verbatim for `application/ld+json`
    / `application/json` (Data Integrity) or `application/jwt` (VC-JWT)."""
    accept = request.headers.get("accept", "")
    found = _visible(request, session, credential_id)
    if found is None:
        return _not_found(request, (negotiate(accept, "json") or ("",))[0] == "html")
    record, owner = found
    native = "jwt" if record.format == "jwt" else "json"
    choice = negotiate(accept, native)
    if choice is None:
        raise NotAcceptable(f"this credential is available as text/html or {_OFFERS[native][0]}")
    kind, media_type = choice
    if kind == "html":
        view = sharing.badge_view(session, record, settings.base_url)
        return templates.TemplateResponse(
            request,
            "credential.html",
            {"view": view, "owner": owner, "links": _links(settings, view)},
            headers=_cache_headers(record),
        )
    if kind == "json" and native == "jwt":
        raise NotAcceptable(
            "this credential is a VC-JWT: ask for application/jwt to get the signed token"
        )
    if kind == "jwt" and native == "json":
        raise NotAcceptable(
            "this credential is secured with a Data Integrity proof: ask for "
            "application/ld+json to get the signed document"
        )
    return Response(record.signed, media_type=media_type, headers=_cache_headers(record))


@router.get("/credentials/{credential_id}/download", response_model=None)
def download_credential(credential_id: str, request: Request, session: SessionDep) -> Response:
    """The signed credential as a file: JSON-LD with its proof, or the compact JWS."""
    record = _visible_record(request, session, credential_id)
    extension, media_type = ("jwt", JWT) if record.format == "jwt" else ("json", JSONLD)
    headers = _cache_headers(record) | {
        "Content-Disposition": f'attachment; filename="credential-{record.uuid}.{extension}"'
    }
    return Response(record.signed, media_type=media_type, headers=headers)


def _image_response(
    record: IssuedCredential, content: bytes, media_type: str, filename: str, download: bool
) -> Response:
    headers = _cache_headers(record) | {"X-Content-Type-Options": "nosniff"}
    if media_type == images.SVG:
        headers["Content-Security-Policy"] = IMAGE_CSP
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(content, media_type=media_type, headers=headers)


@router.get("/credentials/{credential_id}/badge.{kind}", response_model=None)
def baked_badge(
    credential_id: str,
    kind: str,
    request: Request,
    session: SessionDep,
    download: bool = False,
) -> Response:
    """The badge image with the credential baked in (PNG iTXt chunk or SVG element)."""
    if kind not in ("png", "svg"):
        raise NotFound(f"no badge.{kind}: ask for badge.png or badge.svg")
    record = _visible_record(request, session, credential_id)
    content = images.baked(session, record, "png" if kind == "png" else "svg")
    media_type = images.PNG if kind == "png" else images.SVG
    return _image_response(record, content, media_type, f"badge-{record.uuid}.{kind}", download)


@router.get("/credentials/{credential_id}/qr.{kind}", response_model=None)
def qr_code(
    credential_id: str,
    kind: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    download: bool = False,
) -> Response:
    """A QR code of the public page's address."""
    if kind not in ("png", "svg"):
        raise NotFound(f"no qr.{kind}: ask for qr.png or qr.svg")
    record = _visible_record(request, session, credential_id)
    url = issuing.Urls(settings.base_url).credential(record.uuid)
    content = sharing.qr_png(url) if kind == "png" else sharing.qr_svg(url)
    media_type = images.PNG if kind == "png" else images.SVG
    return _image_response(record, content, media_type, f"qr-{record.uuid}.{kind}", download)


# --- claiming and the learner's view -------------------------------------------------------


def _claim_error(request: Request, exc: DomainError) -> HTMLResponse:
    title = _CLAIM_ERROR_TITLES.get(exc.code, N_("This claim link cannot be used"))
    return _error_page(request, http_status(exc), title, exc.message)


@router.get("/credentials/{credential_id}/claim", response_class=HTMLResponse)
def claim_page(
    credential_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str = "",
) -> Response:
    """What the e-mailed link opens: the badge and a button that claims it (a POST, so a
    mail scanner following the link does not spend it)."""
    if _owned(request, session, credential_id) is not None:
        return RedirectResponse(f"/credentials/{credential_id}/manage", status_code=303)
    try:
        record = delivery.check_claim(session, credential_id, token)
    except DomainError as exc:
        return _claim_error(request, exc)
    view = sharing.badge_view(session, record, settings.base_url)
    return templates.TemplateResponse(
        request,
        "claim.html",
        {"view": view, "token": token, "links": _links(settings, view)},
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.post(
    "/credentials/{credential_id}/claim", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def claim(
    credential_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form()] = "",
) -> Response:
    try:
        record, session_token = delivery.redeem_claim(
            session, credential_id, token, ttl=settings.learner_session_ttl
        )
    except DomainError as exc:
        return _claim_error(request, exc)
    response = RedirectResponse(f"/credentials/{record.uuid}/manage", status_code=303)
    _set_learner_cookie(response, settings, record.uuid, session_token)
    return response


def _not_owner(request: Request) -> HTMLResponse:
    # The same answer whether or not the credential exists.
    return _error_page(
        request,
        403,
        N_("Open your claim link first"),
        N_(
            "This page is for the badge's owner. Open the claim link from your e-mail in this "
            "browser, or sign in to your backpack (/backpack) with the address the badge was "
            "sent to; if the link has expired or was used elsewhere, ask the issuer for a new one."
        ),
    )


@router.get("/credentials/{credential_id}/manage", response_class=HTMLResponse)
def learner_view(
    credential_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The learner's view: downloads, share settings, LinkedIn, QR code, Europass."""
    record = _owned(request, session, credential_id)
    if record is None:
        return _not_owner(request)
    view = sharing.badge_view(session, record, settings.base_url)
    europass_reason = europass_refusal(session, record, trust_anchors=_seal_trust_anchors(request))
    return templates.TemplateResponse(
        request,
        "learner.html",
        {
            "view": view,
            "links": _links(settings, view),
            "linkedin": sharing.linkedin_url(view),
            "europass": _europass_url(request, record.uuid),
            "europass_accepted": europass_reason is None,
            "europass_reason": europass_reason,
            "wallet_blocked": _wallet_blocked(record),
            "wallet_mail": record.recipient_email is not None,
        },
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin"},
    )


@router.post(
    "/credentials/{credential_id}/manage/visibility",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def set_visibility(
    credential_id: str,
    request: Request,
    session: SessionDep,
    public: Annotated[str, Form(pattern="^[01]$")],
) -> Response:
    """Make the public page visible (1) or hidden (0). The session cookie is samesite=lax,
    so another site cannot post this form for the learner."""
    record = _owned(request, session, credential_id)
    if record is None:
        return _not_owner(request)
    sharing.set_public(session, record, public == "1")
    return RedirectResponse(f"/credentials/{credential_id}/manage", status_code=303)


@router.post(
    "/credentials/{credential_id}/manage/forget",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def forget_browser(credential_id: str, request: Request, session: SessionDep) -> Response:
    """End the learner session in this browser."""
    delivery.end_session(session, request.cookies.get(COOKIE))
    return _signed_out(credential_id)


@router.post(
    "/credentials/{credential_id}/manage/sign-out-everywhere",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def sign_out_everywhere(credential_id: str, request: Request, session: SessionDep) -> Response:
    """End every learner session of the credential (a lost phone, a shared computer): each
    browser then needs a new claim link from the issuer."""
    record = _owned(request, session, credential_id)
    if record is None:
        return _not_owner(request)
    delivery.end_sessions(session, pk(record))
    return _signed_out(credential_id)


def _signed_out(credential_id: str) -> Response:
    response = RedirectResponse("/", status_code=303)
    # Quoted: the id comes from the URL and a header carries only latin-1 without `;`.
    response.delete_cookie(COOKIE, path=f"/credentials/{quote(credential_id)}")
    return response


# --- provider API: claim links, sharing default, badge images --------------------------------


class ClaimLinkRequest(BaseModel):
    credential: Line


@router.post("/api/v1/claim-links", status_code=201)
def send_claim_link(
    body: ClaimLinkRequest, session: SessionDep, settings: SettingsDep, org: OrgDep
) -> dict[str, Any]:
    """E-mail the learner a new claim link; earlier unused links stop working."""
    try:  # another provider's credential does not exist for this one
        record = issuing.owned_credential(session, body.credential, org.id).record
    except (NotFound, Forbidden):
        raise NotFound(f"credential {body.credential!r} is not one of yours") from None
    result = delivery.send_claim_link(session, settings, record)
    return {
        "credential": record.uuid,
        "sent": result.sent,
        "expires_at": result.expires_at.isoformat(),
        "error": result.error,
    }


class SharingDefault(BaseModel):
    public_by_default: bool


@router.put("/api/v1/issuers/{slug}/sharing")
def issuer_sharing_default(
    slug: str, body: SharingDefault, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> dict[str, Any]:
    """Whether new credentials' pages start public (learners can still hide them)."""
    issuer = issuers.owned_issuer(session, slug, org.id)
    if issuer.public_by_default != body.public_by_default:
        issuers.set_public_by_default(session, issuer, body.public_by_default)
        caller.record(
            session,
            "issuer.sharing_default",
            subject_type="issuer",
            subject_id=issuer.slug,
            details={"public_by_default": body.public_by_default},
        )
    return {"issuer": issuer.slug, "public_by_default": issuer.public_by_default}


class BadgeImageOut(BaseModel):
    micro_credential: str
    media_type: str
    width: int | None
    height: int | None
    bytes: int
    sha256: str
    url: str


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length", "")
    # ASCII digits only: headers are read as Latin-1, and "\xb2" (²) passes isdigit().
    if _DIGITS.fullmatch(declared) and (len(declared) > 18 or int(declared) > cap):
        raise PayloadTooLarge(f"the image is {declared} bytes; at most {cap}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise PayloadTooLarge(f"the image is over {cap} bytes")
    return bytes(body)


async def _image_body(request: Request) -> bytes:
    return await _read_capped(request, images.MAX_UPLOAD_BYTES)


@router.put("/api/v1/micro-credentials/{slug}/image")
def upload_badge_image(
    slug: str,
    # Read before the session's first query (see deps.request_body).
    data: Annotated[bytes, Depends(_image_body)],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    org: OrgDep,
    caller: ApiCallerDep,
) -> BadgeImageOut:
    """Set a micro-credential's badge image: the body is a PNG (`image/png`) or an SVG
    (`image/svg+xml`) of at most 1 MiB; badges are baked into it from then on."""
    mc = own_micro_credential(session, org, slug)
    if not data:
        raise InvalidInput("the body is empty: send the image bytes")
    image = images.store_image(
        session, mc, data, request.headers.get("content-type"), base_url=settings.base_url
    )
    caller.record(
        session,
        "micro_credential.image",
        subject_type="micro_credential",
        subject_id=mc.slug,
        details={"media_type": image.media_type, "sha256": image.sha256},
    )
    return BadgeImageOut(
        micro_credential=mc.slug,
        media_type=image.media_type,
        width=image.width,
        height=image.height,
        bytes=len(image.data),
        sha256=image.sha256,
        url=images.image_url(settings.base_url, mc.slug),
    )


@router.delete("/api/v1/micro-credentials/{slug}/image", status_code=204)
def delete_badge_image(
    slug: str, session: SessionDep, settings: SettingsDep, org: OrgDep, caller: ApiCallerDep
) -> Response:
    mc = own_micro_credential(session, org, slug)
    if not images.delete_image(session, mc, base_url=settings.base_url):
        raise NotFound(f"micro-credential {slug!r} has no uploaded image")
    caller.record(
        session, "micro_credential.image_delete", subject_type="micro_credential", subject_id=slug
    )
    return Response(status_code=204)


@router.get("/micro-credentials/{slug}/image", response_model=None)
def badge_image(slug: str, request: Request, session: SessionDep) -> Response:
    """A micro-credential's badge image: the upload, else the drawn default."""
    mc = get_micro_credential(session, slug)
    image = images.served_image(session, mc)
    etag = image.etag
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if image.media_type == images.SVG:
        headers["Content-Security-Policy"] = IMAGE_CSP
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.media_type, headers=headers)
