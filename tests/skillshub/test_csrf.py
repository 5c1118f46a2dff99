"""Forms and CSRF (skillshub.web.csrf): cross-site posts and posts without the page's token
are refused (403) and change nothing; the app's own pages post fine; every page-answering POST
route and every POST form in the templates is covered, so a new form cannot forget it."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from badges.models import ClaimToken, IssuedCredential
from keys.sealing import MasterKey, generate_master_key
from skillshub.settings import Settings
from skillshub.web import csrf
from skillshub.web.app import create_app
from skillshub.web.pages import TEMPLATES_DIR
from tests.skillshub.test_security_headers import _routes
from tests.support.present import present
from tests.support.world import World, make_world

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CROSS_SITE = [
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
    {"origin": "https://evil.example"},
    {"origin": "null", "sec-fetch-site": "cross-site"},
    {"origin": "http://testserver.evil.example"},
]
FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _claim_link(client: TestClient, world: World, settings: Settings) -> str:
    issued = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "Ada", "email": "ada@example.org"},
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert issued.status_code == 201, issued.text
    [mail] = (settings.data_dir / "outbox").glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    text = present(message.get_body(("plain",))).get_content()
    [link] = re.findall(r"https?://[^/\s]+(/credentials/\S+/claim\?token=\S+)", text)
    return link


def _form_token(page_html: str) -> str:
    tokens = set(FIELD.findall(page_html))
    assert len(tokens) == 1, "every form of a page carries the same token"
    return tokens.pop()


def _claimed(engine: Engine) -> bool:
    with Session(engine) as fresh:
        return any(t.used_at for t in fresh.exec(select(ClaimToken)))


def _public(engine: Engine) -> bool:
    with Session(engine) as fresh:
        return fresh.exec(select(IssuedCredential)).one().public


def test_the_claim_form_needs_its_token_and_our_origin(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    link = _claim_link(client, world, settings)
    path, token = urlsplit(link).path, parse_qs(urlsplit(link).query)["token"][0]
    page = client.get(link, headers=HTML)
    assert page.status_code == 200
    form_token = _form_token(page.text)
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{csrf.COOKIE}=") and "HttpOnly" in cookie
    assert "Path=/" in cookie and "SameSite=Lax" in cookie
    assert "no-store" in page.headers["cache-control"]

    refusals: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"token": token}, {}),  # no CSRF token
        ({"token": token, "csrf_token": "x" * 43}, {}),  # a made-up one
        ({"token": token, "csrf_token": form_token + "A"}, {}),
    ] + [({"token": token, "csrf_token": form_token}, headers) for headers in CROSS_SITE]
    for form, headers in refusals:
        refused = client.post(path, data=form, headers=HTML | headers, follow_redirects=False)
        assert refused.status_code == 403, (form, headers)
        assert "shub_learner" not in refused.headers.get("set-cookie", "")
        assert refused.headers["content-security-policy"].startswith("default-src 'self'")
    cross = client.post(
        path, data={"token": token, "csrf_token": form_token}, headers=HTML | CROSS_SITE[0]
    )
    assert "sent from another web site" in cross.text
    missing = client.post(path, data={"token": token}, headers={"accept": "application/json"})
    assert missing.json()["error"]["code"] == "csrf_token_invalid"
    assert "reload the page" in missing.json()["error"]["message"]
    assert not _claimed(engine)

    # Another browser's cookie does not go with this page's token.
    stranger = TestClient(client.app)
    stranger.cookies.set(csrf.COOKIE, "A" * 43)
    stolen = stranger.post(path, data={"token": token, "csrf_token": form_token})
    assert stolen.status_code == 403 and not _claimed(engine)

    # A no-referrer page's own form: Chromium sends `Origin: null`, and Sec-Fetch-Site tells.
    own_site = {"origin": "null", "sec-fetch-site": "same-origin"}
    claimed = client.post(
        path,
        data={"token": token, "csrf_token": form_token},
        headers=own_site,
        follow_redirects=False,
    )
    assert claimed.status_code == 303 and _claimed(engine)


def test_learner_forms_refuse_cross_site_posts_and_change_nothing(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    link = _claim_link(client, world, settings)
    form_token = _form_token(client.get(link, headers=HTML).text)
    token = parse_qs(urlsplit(link).query)["token"][0]
    manage = client.post(
        urlsplit(link).path, data={"token": token, "csrf_token": form_token}
    )  # follows to the learner view
    assert manage.status_code == 200 and 'data-visibility="hidden"' in manage.text
    forms = re.findall(r'<form method="post".*?</form>', manage.text, re.S)
    assert len(forms) >= 3 and all(FIELD.search(f) for f in forms)
    assert _form_token(manage.text) == form_token  # one cookie, one token per browser
    uuid = present(re.search(r"/credentials/([^/]+)/manage", manage.url.path)).group(1)

    visibility = f"/credentials/{uuid}/manage/visibility"
    forget = f"/credentials/{uuid}/manage/forget"
    everywhere = f"/credentials/{uuid}/manage/sign-out-everywhere"
    for headers in CROSS_SITE:
        form = {"public": "1", "csrf_token": form_token}
        for action in (visibility, forget, everywhere):
            assert client.post(action, data=form, headers=headers).status_code == 403
    for action in (visibility, forget, everywhere):
        assert client.post(action, data={"public": "1"}).status_code == 403
    assert not _public(engine)
    assert client.get(f"/credentials/{uuid}/manage").status_code == 200  # still signed in

    made_public = client.post(
        visibility, data={"public": "1", "csrf_token": form_token}, follow_redirects=False
    )
    assert made_public.status_code == 303 and _public(engine)
    # A script on our own page may send the token as a header instead.
    hidden = client.post(
        visibility,
        data={"public": "0"},
        headers={"x-csrf-token": form_token},
        follow_redirects=False,
    )
    assert hidden.status_code == 303 and not _public(engine)
    forgot = client.post(forget, data={"csrf_token": form_token}, follow_redirects=False)
    assert forgot.status_code == 303
    assert client.get(f"/credentials/{uuid}/manage").status_code == 403


def test_the_token_is_bound_to_the_deployments_secret(
    client: TestClient, world: World, settings: Settings
) -> None:
    """Derived from the master key: a token made with any other key is refused."""
    link = _claim_link(client, world, settings)
    client.get(link, headers=HTML)
    nonce = client.cookies.get(csrf.COOKIE)
    assert nonce is not None
    foreign = csrf.token_for(MasterKey(generate_master_key()), nonce)
    token = parse_qs(urlsplit(link).query)["token"][0]
    refused = client.post(urlsplit(link).path, data={"token": token, "csrf_token": foreign})
    assert refused.status_code == 403


def test_https_deployments_use_a_host_only_secure_cookie(
    settings: Settings, engine: Engine, world: World
) -> None:
    https = settings.model_copy(update={"base_url": "https://badges.example"})
    with TestClient(create_app(https, engine=engine), base_url="https://badges.example") as client:
        link = _claim_link(client, world, https)
        page = client.get(link, headers=HTML)
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"{csrf.SECURE_COOKIE}=") and "Secure" in cookie
        assert "Path=/" in cookie and "Domain" not in cookie


def test_the_verify_form_refuses_other_sites(client: TestClient) -> None:
    """No session, so no token; other sites may not post it through visitors' browsers."""
    for headers in CROSS_SITE:
        refused = client.post(
            "/verify", data={"url": "https://example.org/b.json"}, headers=headers
        )
        assert refused.status_code == 403, headers
    own = client.post(
        "/verify",
        data={"credential": "not a badge"},
        headers={"sec-fetch-site": "same-origin", "origin": "http://testserver"},
    )
    assert own.status_code == 422 and "csrf" not in own.text.lower()
    api = client.post("/api/v1/verify", content=b"{}", headers={"content-type": "application/json"})
    assert api.status_code != 403  # API clients are not browsers: no Origin check


def test_every_form_route_and_template_form_is_protected(client: TestClient) -> None:
    """A POST that answers with a page is a form: it takes CsrfDep (or, for a form acting
    for no session, SameOriginDep); every POST form in a template renders csrf_field()."""
    app = client.app
    assert isinstance(app, FastAPI)
    checks = {csrf.require_csrf, csrf.require_same_origin}
    forms = [
        r
        for _, r in _routes(app.routes)
        if isinstance(r, APIRoute)
        and "POST" in present(r.methods)
        and getattr(r.response_class, "value", r.response_class) is HTMLResponse
    ]
    assert len(forms) >= 4
    for route in forms:
        assert any(d.dependency in checks for d in route.dependencies), route.path
    for template in Path(TEMPLATES_DIR).rglob("*.html"):
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", template.read_text(), re.S):
            if 'action="/verify"' in form:
                continue  # SameOriginDep only, see skillshub.web.csrf
            assert "csrf_field()" in form, f"{template.name}: {form[:80]}"
