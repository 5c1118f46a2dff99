"""The public verifier: JSON API, VC-API, and the page. Thin: parsing in, report out."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from badges.report import Verdict, VerificationReport
from badges.verifying import (
    UnrecognisedInput,
    VerificationContext,
    VerifyOptions,
    parse_json,
    vc_api,
    verify,
)
from badges.verifying.input import load
from badges.verifying.plain import headline
from badges.verifying.presentations import verify_presentation
from badges.verifying.service import catalogue_skill_labels
from badges.verifying.vc_api import credential_input
from catalogue.errors import DomainError, UnsupportedMediaType
from skillshub.metrics import VERIFICATIONS
from skillshub.web.csrf import SameOriginDep
from skillshub.web.deps import ContextDep, read_only
from skillshub.web.errors import http_status
from skillshub.web.i18n import DEFAULT, N_, known_message, language_of
from skillshub.web.pages import templates

router = APIRouter(tags=["verify"])

JSON_MEDIA = {"application/json", "application/ld+json", "application/vc+ld+json", "application/vc"}
TEXT_MEDIA = {"text/plain", "application/jwt", "application/vc+jwt"}
IMAGE_MEDIA = {"image/png", "image/svg+xml"}
# The page may show a credential's URL (?url=…): not passed on to links it leads to. The
# other security headers come from skillshub.web.security_headers, as on every page.
PAGE_HEADERS = {"Referrer-Policy": "no-referrer"}

Input = tuple[bytes | str | dict[str, Any], str | None]

# The report's kind of credential (badges.verifying.service.credential_kind), on the page in
# the reader's language.
for _pattern, _message in (
    (
        r"Open Badges 3\.0 credential \(VC Data Model (?P<version>[\w.]+)\)",
        N_("Open Badges 3.0 credential (VC Data Model %(version)s)"),
    ),
    (
        r"Verifiable Credential \(VC Data Model (?P<version>[\w.]+)\)",
        N_("Verifiable Credential (VC Data Model %(version)s)"),
    ),
):
    known_message(_pattern, _message)

# Why a badge could not be verified at all (the verifier's refusals of its input, its fetch's
# failures and refusals: badges/verifying/input.py, fetching.py, baking.py), on the page and
# the backpack's import page in the reader's language; the API answers with the service's
# English. A host is a name as the service wrote it; a library's own detail stays as written.
_HOST = r"(?P<host>\S+)"
_INPUT_WORDS = (
    N_("give a badge: paste it, upload a file, or enter a link"),
    N_("the link must be an https URL"),
    N_("the JSON repeats a member name in one object"),
    N_("the JSON is nested too deeply"),
    N_("a credential must be a JSON object"),
    N_("not a credential: expected JSON, a compact JWS, or a baked PNG or SVG image"),
    N_("a NUL character"),
    N_("a lone surrogate"),
    N_("the URL is malformed"),
    N_("the URL's host name is malformed"),
    N_("URLs with user information are refused"),
    N_("the URL has no host"),
    N_("this hub publishes no public credential or document at this address"),
)
for _pattern, _message in (
    (
        r"(?P<field>email|credential|url) must be a string",
        N_("%(field)s must be text"),
    ),
    (
        r"the input is (?P<size>\d+) bytes, over the (?P<limit>\d+) limit",
        N_("the input is %(size)s bytes, over the limit of %(limit)s bytes"),
    ),
    (r"the input is not valid JSON: (?P<detail>.+)", N_("the input is not valid JSON: %(detail)s")),
    (
        r"the JSON holds (?P<kind>a NUL character|a lone surrogate) \((?P<code>U\+[0-9A-F]+)\)",
        N_("the JSON holds %(kind)s (%(code)s)"),
    ),
    (
        r"the JSON is nested deeper than (?P<count>\d+) levels",
        N_("the JSON is nested deeper than %(count)s levels"),
    ),
    (
        r"the JSON has more than (?P<count>\d+) objects and arrays",
        N_("the JSON has more than %(count)s objects and arrays"),
    ),
    (
        r"the (?P<image>PNG|SVG) image cannot be read: (?P<detail>.+)",
        N_("the %(image)s image cannot be read: %(detail)s"),
    ),
    (
        r"the (?P<image>PNG|SVG) image carries no Open Badges credential",
        N_("the %(image)s image carries no Open Badges credential"),
    ),
    (
        r"the credential cannot be canonicalized within limits: (?P<detail>.+)",
        N_("the credential cannot be canonicalized within limits: %(detail)s"),
    ),
    # A failure remembered for a while: its own words, translated in their turn.
    (
        r"(?P<problem>.+) \(a moment ago; not tried again for (?P<seconds>[\d.]+) s\)",
        N_("%(problem)s (a moment ago; not tried again for %(seconds)s s)"),
    ),
    (
        rf"{_HOST}: not among the pinned documents, and this verifier is offline",
        N_("%(host)s: not among the pinned documents, and this verifier is offline"),
    ),
    (rf"{_HOST}: timed out", N_("%(host)s: timed out")),
    (rf"{_HOST}: timed out resolving the name", N_("%(host)s: timed out resolving the name")),
    (rf"{_HOST}: the name does not resolve", N_("%(host)s: the name does not resolve")),
    (rf"{_HOST}: a redirect without a Location", N_("%(host)s: a redirect without a Location")),
    (
        rf"{_HOST} answered HTTP 404: the link is wrong, or the badge there is not public",
        N_("%(host)s answered HTTP 404: the link is wrong, or the badge there is not public"),
    ),
    (rf"{_HOST}: HTTP (?P<status>\d+)", N_("%(host)s: HTTP %(status)s")),
    (
        rf"{_HOST}: unexpected content type '(?P<type>[^']*)'",
        N_("%(host)s: unexpected content type “%(type)s”"),
    ),
    (
        rf"{_HOST}: content encoding '(?P<encoding>[^']*)' refused",
        N_("%(host)s: content encoding “%(encoding)s” refused"),
    ),
    (
        rf"{_HOST}: the document is over (?P<count>\d+) bytes",
        N_("%(host)s: the document is over %(count)s bytes"),
    ),
    (
        rf"{_HOST}: more than (?P<count>\d+) redirects",
        N_("%(host)s: more than %(count)s redirects"),
    ),
    # httpx's error type (ConnectError, ReadError, …): the connection failed.
    (
        rf"{_HOST}: (?P<error>[A-Z][A-Za-z]*(?:Error|Protocol|Redirects))",
        N_("%(host)s: the connection failed (%(error)s)"),
    ),
    (
        r"the URL is longer than (?P<count>\d+) characters",
        N_("the URL is longer than %(count)s characters"),
    ),
    (rf"{_HOST}: only https URLs are fetched", N_("%(host)s: only https URLs are fetched")),
    (
        r"'(?P<scheme>[^']*)' URLs are not fetched; only https",
        N_("“%(scheme)s” URLs are not fetched; only https"),
    ),
    (
        rf"{_HOST} resolves to (?P<address>\S+), which is not a public address",
        N_("%(host)s resolves to %(address)s, which is not a public address"),
    ),
    (rf"{_HOST} is not a public address", N_("%(host)s is not a public address")),
    (
        r"not fetched: this verification already made (?P<count>\d+) fetches, the most it may",
        N_("not fetched: this verification already made %(count)s fetches, the most it may"),
    ),
):
    known_message(_pattern, _message)


def _text(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UnrecognisedInput(f"{name} must be a string")
    return value


def _web_url(url: str, name: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise UnrecognisedInput(f"{name} must be an https URL")
    return url


async def _parsed(request: Request, context: VerificationContext) -> Any:
    # Off the event loop: parsing and shape-checking a large body takes tens of milliseconds
    # of CPU, which on the loop would stall every other request.
    return await run_in_threadpool(parse_json, await request.body(), context.limits)


async def _json_input(request: Request, context: VerificationContext) -> Input:
    return _json_value_input(await _parsed(request, context))


def _json_value_input(value: Any) -> Input:
    """What a parsed JSON body asks to verify: a credential, or {"url"|"credential", …}."""
    if (
        isinstance(value, dict)
        and "@context" not in value
        and ("url" in value or "credential" in value)
    ):
        email = _text(value.get("recipient_email"), "recipient_email")
        url = _text(value.get("url"), "url")
        if url is not None:
            return _web_url(url, "url"), email
        return credential_input(value.get("credential"), "credential"), email
    if not isinstance(value, dict):
        raise UnrecognisedInput("a credential must be a JSON object")
    return value, None


async def _form_input(request: Request) -> Input:
    form = await request.form(max_files=1, max_fields=10)
    email = _text(form.get("email"), "email") or _text(form.get("recipient_email"), "email")
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(), email
    pasted = _text(form.get("credential"), "credential")
    if pasted and pasted.strip():
        return pasted.strip().encode(), email
    url = _text(form.get("url"), "url")
    if url and url.strip():
        return _web_url(url.strip(), "the link"), email
    raise UnrecognisedInput("give a badge: paste it, upload a file, or enter a link")


async def _request_input(request: Request, context: VerificationContext) -> Input:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in JSON_MEDIA:
        return await _json_input(request, context)
    if media == "multipart/form-data" or media == "application/x-www-form-urlencoded":
        return await _form_input(request)
    if media in TEXT_MEDIA or media in IMAGE_MEDIA:
        return await request.body(), None
    raise UnsupportedMediaType(
        f"send application/json, application/jwt, text/plain, multipart/form-data or an image, "
        f"not {media or 'no content type'}"
    )


async def _verify(context: VerificationContext, data: Any, email: str | None):
    return await run_in_threadpool(_verified, context, data, email)


def _verified(context: VerificationContext, data: Any, email: str | None) -> VerificationReport:
    report = verify(context, data, options=VerifyOptions(recipient_email=email))
    VERIFICATIONS.labels(verdict=report.verdict.value).inc()
    return report


@router.post("/api/v1/verify")
@read_only
async def verify_api(request: Request, context: ContextDep) -> JSONResponse:
    """Verify an OB 3.0 credential: JSON, a compact JWS, a baked PNG/SVG, or {"url": …}."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in JSON_MEDIA:  # the common case: parsed and verified in one thread hop
        body = await request.body()
        report = await run_in_threadpool(_verify_json, context, body)
    else:
        data, email = await _request_input(request, context)
        report = await _verify(context, data, email)
    return JSONResponse(report.to_json())


def _verify_json(context: VerificationContext, body: bytes) -> VerificationReport:
    return _verified(context, *_json_value_input(parse_json(body, context.limits)))


@router.post("/credentials/verify", tags=["vc-api"])
@read_only
async def vc_api_verify(request: Request, context: ContextDep) -> JSONResponse:
    """W3C VC-API: `{verifiableCredential, options}` -> `{verified, checks, warnings, errors}`
    (problem details) and our full `report`; 200 when verified, 400 otherwise."""
    body = await _parsed(request, context)
    credential = body.get("verifiableCredential") if isinstance(body, dict) else None
    report = await _verify(context, credential_input(credential, "verifiableCredential"), None)
    result = vc_api.result(report)
    return JSONResponse(result, status_code=200 if result["verified"] else 400)


@router.post("/presentations/verify", tags=["vc-api"])
@read_only
async def vc_api_verify_presentation(request: Request, context: ContextDep) -> JSONResponse:
    """W3C VC-API: `{verifiablePresentation, options: {challenge, domain}}` -> the
    presentation's proof (purpose authentication) and every credential in it."""
    body = await _parsed(request, context)
    body = body if isinstance(body, dict) else {}
    given = body.get("options")
    options: dict[str, Any] = given if isinstance(given, dict) else {}
    challenge = _text(options.get("challenge"), "options.challenge")
    domain = options.get("domain")
    if domain is not None and not (
        isinstance(domain, str)
        or (isinstance(domain, list) and all(isinstance(d, str) for d in domain))
    ):
        raise UnrecognisedInput("options.domain must be a string or a list of strings")
    report = await run_in_threadpool(
        verify_presentation,
        context,
        body.get("verifiablePresentation"),
        challenge=challenge,
        domain=domain,
    )
    result = report.vc_api_result()
    return JSONResponse(result, status_code=200 if result["verified"] else 400)


def _page(request: Request, status_code: int = 200, **values: Any) -> Response:
    return templates.TemplateResponse(
        request, "verify.html", values, status_code=status_code, headers=PAGE_HEADERS
    )


def _handoff(context: VerificationContext, data: Any) -> str | None:
    """The badge as text the gap page can take back (a link, JSON or a JWS): what was
    verified, with a baked image's credential taken out of the image."""
    if isinstance(data, str) and data.startswith(("https://", "http://")):
        return data
    try:
        loaded = load(data, context.limits)
    except DomainError:
        return None
    if loaded.token is not None:
        return loaded.token
    return json.dumps(loaded.credential, ensure_ascii=False)


def _skills_in(
    context: VerificationContext, report: VerificationReport, language: str
) -> VerificationReport:
    """The report as a page in `language` shows it: each skill our catalogue holds labelled in
    that language where the catalogue has a label in it. English pages, and the JSON API,
    keep the primary labels the verification put in the report."""
    held = [s.url for s in report.summary.skills if s.catalogue_label and s.url]
    if language == DEFAULT or not held:
        return report
    labels = catalogue_skill_labels(context.session, held, language)
    skills = [
        replace(s, catalogue_label=labels.get(s.url, s.catalogue_label))
        if s.catalogue_label and s.url
        else s
        for s in report.summary.skills
    ]
    return replace(report, summary=replace(report.summary, skills=skills))


def _report_page(
    request: Request, context: VerificationContext, report: VerificationReport, data: Any
) -> Response:
    valid = report.verdict is Verdict.VALID
    return _page(
        request,
        report=_skills_in(context, report, language_of(request)),
        headline=headline(report),
        handoff=_handoff(context, data) if valid else None,
    )


async def _page_for(request: Request, context: VerificationContext, source: Any) -> Response:
    try:
        data, email = await source
        report = await _verify(context, data, email)
    except DomainError as exc:
        return _page(request, http_status(exc), error=exc.message)
    return await run_in_threadpool(_report_page, request, context, report, data)


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_page(request: Request, context: ContextDep, url: str | None = None) -> Response:
    """The form; `?url=…` verifies that link (a shareable verification)."""
    if not url:
        return _page(request)

    async def from_url() -> Input:
        return _web_url(url, "the link"), None

    return await _page_for(request, context, from_url())


# Origin check only: no session to ride on (see skillshub.web.csrf).
@router.post(
    "/verify", response_class=HTMLResponse, include_in_schema=False, dependencies=[SameOriginDep]
)
@read_only
async def verify_form(request: Request, context: ContextDep) -> Response:
    return await _page_for(request, context, _form_input(request))
