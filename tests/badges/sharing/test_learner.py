"""The learner's side through the real app (both databases): e-mail, claim, learner view,
public page and its content negotiation, QR codes, baked images, privacy, refusals."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.routing import Match

from badges import baking
from badges.models import ClaimToken, IssuedCredential
from badges.sharing import delivery
from catalogue.base import pk
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.csrf import csrf_fields
from tests.support.present import present
from tests.support.qr import read_qr
from tests.support.world import World, make_world

EMAIL = "Ada.Lovelace@Example.org"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTML = {"accept": BROWSER_ACCEPT}


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _issue(client: TestClient, world: World, **fields: str) -> dict:
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": EMAIL}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body | fields, headers=_auth(world)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _outbox(settings: Settings) -> list[EmailMessage]:
    folder = settings.data_dir / "outbox"
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


def _claim_link(message: EmailMessage) -> str:
    text = present(message.get_body(("plain",))).get_content()
    [link] = re.findall(r"http://testserver/credentials/\S+/claim\?token=\S+", text)
    return link


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _claim(client: TestClient, link: str) -> None:
    page = client.get(_path(link), headers=HTML)
    assert page.status_code == 200, page.text
    assert "Claim my badge" in page.text
    form = {"token": _token(link)} | csrf_fields(client)
    claimed = client.post(urlsplit(link).path, data=form, follow_redirects=False)
    assert claimed.status_code == 303, claimed.text
    assert claimed.headers["location"].endswith("/manage")


def _stranger(client: TestClient) -> TestClient:
    return TestClient(client.app)


def _fresh(engine: Engine, credential_id: str) -> IssuedCredential:
    with Session(engine) as fresh:
        return fresh.exec(
            select(IssuedCredential).where(IssuedCredential.uuid == credential_id)
        ).one()


def _tokens(engine: Engine) -> list[ClaimToken]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(ClaimToken).order_by(col(ClaimToken.id))))


def _meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert match, f"no {key} meta tag"
    return match.group(1)


def _set_public(client: TestClient, credential_id: str, public: bool) -> None:
    response = client.post(
        f"/credentials/{credential_id}/manage/visibility",
        data={"public": "1" if public else "0"} | csrf_fields(client),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


# --- the whole journey ---------------------------------------------------------------------


def test_issue_mail_claim_publish_revoke_hide(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    out = _issue(client, world)
    credential_id = out["id"]
    [message] = _outbox(settings)
    assert message["To"].addresses[0].addr_spec.lower() == EMAIL.lower()
    assert world.mc.title in message["Subject"]
    link = _claim_link(message)
    assert link.startswith(f"http://testserver/credentials/{credential_id}/claim?token=")
    # Only the token's hash is stored.
    [stored] = _tokens(engine)
    assert stored.purpose == "claim" and stored.used_at is None
    assert stored.token_hash == delivery.hash_token(_token(link))
    assert _token(link) not in json.dumps(stored.model_dump(), default=str)

    stranger = _stranger(client)
    assert stranger.get(f"/credentials/{credential_id}", headers=HTML).status_code == 404
    assert stranger.get(f"/credentials/{credential_id}").status_code == 404

    _claim(client, link)
    cookie = next(c for c in client.cookies.jar if c.name == "shub_learner")
    assert cookie.path == f"/credentials/{credential_id}"
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert _fresh(engine, credential_id).public is False
    view = client.get(f"/credentials/{credential_id}/manage", headers=HTML)
    assert view.status_code == 200
    assert 'data-visibility="hidden"' in view.text
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in view.text
    # The learner sees their hidden page; nobody else does.
    own_page = client.get(f"/credentials/{credential_id}", headers=HTML)
    assert own_page.status_code == 200 and "only you can see it" in own_page.text
    assert own_page.headers["cache-control"] == "private, no-store"
    assert stranger.get(f"/credentials/{credential_id}", headers=HTML).status_code == 404

    _set_public(client, credential_id, True)
    assert _fresh(engine, credential_id).public is True
    page = stranger.get(f"/credentials/{credential_id}", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert "High-voltage battery maintenance" in html
    assert "Diagnose and maintain EV battery systems safely." in html
    assert "Voltacademy Badges" in html and "Ada Lovelace" in html
    assert 'data-status="valid"' in html
    assert 'href="/skills/battery-voltacademy"' in html
    page_url = f"http://testserver/credentials/{credential_id}"
    assert f'href="/verify?url={page_url.replace(":", "%3A").replace("/", "%2F")}"' in html
    assert _meta(html, "og:url") == page_url
    assert _meta(html, "og:image") == f"{page_url}/badge.png"
    assert _meta(html, "og:title").startswith("High-voltage battery maintenance")
    assert _meta(html, "og:description") == "Diagnose and maintain EV battery systems safely."
    assert _meta(html, "twitter:card") == "summary"
    assert f'href="/micro-credentials/{world.mc.slug}"' in html
    assert EMAIL.lower() not in html.lower()

    revoked = client.post(
        f"/api/v1/credentials/{credential_id}/revoke", json={}, headers=_auth(world)
    )
    assert revoked.status_code == 200
    page = stranger.get(f"/credentials/{credential_id}", headers=HTML)
    assert 'data-status="revoked"' in page.text and "Revoked." in page.text

    _set_public(client, credential_id, False)
    for path in ("", "/badge.png", "/badge.svg", "/qr.png", "/qr.svg", "/download"):
        assert stranger.get(f"/credentials/{credential_id}{path}").status_code == 404, path
    assert stranger.get(f"/credentials/{credential_id}", headers=HTML).status_code == 404
    assert client.get(f"/credentials/{credential_id}/badge.png").status_code == 200


def _update(engine: Engine, model: type, row_id: int, **values: object) -> None:
    with Session(engine) as fresh:
        row = fresh.get(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)
        fresh.add(row)
        fresh.commit()


def test_suspended_and_expired_status_on_the_page(
    settings: Settings, world: World, engine: Engine
) -> None:
    both = settings.model_copy(update={"status_purposes": ("revocation", "suspension")})
    with TestClient(create_app(both, engine=engine)) as client:
        _suspended_and_expired(client, world, engine)


def _suspended_and_expired(client: TestClient, world: World, engine: Engine) -> None:
    out = _issue(client, world)
    record_id = pk(_fresh(engine, out["id"]))
    _update(engine, IssuedCredential, record_id, public=True)

    def status() -> str:
        page = client.get(f"/credentials/{out['id']}", headers=HTML).text
        return present(re.search(r'data-status="(\w+)"', page)).group(1)

    assert status() == "valid"
    client.post(f"/api/v1/credentials/{out['id']}/suspend", json={}, headers=_auth(world))
    assert status() == "suspended"
    client.post(f"/api/v1/credentials/{out['id']}/unsuspend", json={}, headers=_auth(world))
    _update(engine, IssuedCredential, record_id, valid_until=datetime.now(UTC) - timedelta(days=1))
    assert status() == "expired"


# --- content negotiation -------------------------------------------------------------------


def _public(client: TestClient, world: World, settings: Settings, **fields: str) -> str:
    out = _issue(client, world, **fields)
    _claim(client, _claim_link(_outbox(settings)[-1]))
    _set_public(client, out["id"], True)
    return out["id"]


def test_json_requests_get_the_stored_credential_verbatim(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    credential_id = _public(client, world, settings)
    stored = _fresh(engine, credential_id).signed
    stranger = _stranger(client)
    for accept in ("application/ld+json", "application/json", "", "*/*"):
        response = stranger.get(f"/credentials/{credential_id}", headers={"accept": accept})
        assert response.status_code == 200, accept
        assert response.text == stored
        assert EMAIL.lower() not in response.text.lower()
    assert (
        stranger.get(
            f"/credentials/{credential_id}", headers={"accept": "application/json"}
        ).headers["content-type"]
        == "application/json"
    )
    refused = stranger.get(f"/credentials/{credential_id}", headers={"accept": "application/jwt"})
    assert refused.status_code == 406
    assert "application/ld+json" in refused.json()["error"]["message"]
    assert (
        stranger.get(f"/credentials/{credential_id}", headers={"accept": "image/png"}).status_code
        == 406
    )
    download = stranger.get(f"/credentials/{credential_id}/download")
    assert download.text == stored and "attachment" in download.headers["content-disposition"]


def test_jwt_credential_negotiation(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    credential_id = _public(client, world, settings, format="jwt")
    stored = _fresh(engine, credential_id).signed
    stranger = _stranger(client)
    for accept in ("application/jwt", "application/vc+jwt", ""):
        response = stranger.get(f"/credentials/{credential_id}", headers={"accept": accept})
        assert response.status_code == 200 and response.text == stored, accept
    # A verifier listing every type it reads at equal quality gets the credential's own form.
    fetcher_accept = "application/json, application/jwt, application/ld+json, image/png"
    response = stranger.get(f"/credentials/{credential_id}", headers={"accept": fetcher_accept})
    assert response.text == stored
    refused = stranger.get(f"/credentials/{credential_id}", headers={"accept": "application/json"})
    assert refused.status_code == 406
    assert "application/jwt" in refused.json()["error"]["message"]
    page = stranger.get(f"/credentials/{credential_id}", headers=HTML)
    assert page.status_code == 200 and "High-voltage battery maintenance" in page.text


# --- QR codes and baked images -------------------------------------------------------------


def test_qr_code_decodes_to_the_page_url(
    client: TestClient, world: World, settings: Settings
) -> None:
    credential_id = _public(client, world, settings)
    png = _stranger(client).get(f"/credentials/{credential_id}/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert read_qr(png.content) == f"http://testserver/credentials/{credential_id}"
    svg = _stranger(client).get(f"/credentials/{credential_id}/qr.svg?download=1")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg") and "attachment" in svg.headers["content-disposition"]


@pytest.mark.parametrize("fmt", ["ldp", "jwt"])
def test_baked_badges_round_trip(
    client: TestClient, world: World, settings: Settings, engine: Engine, fmt: str
) -> None:
    from openbadgeslib import baking as oblib

    credential_id = _public(client, world, settings, format=fmt)
    stored = _fresh(engine, credential_id).signed
    png = _stranger(client).get(f"/credentials/{credential_id}/badge.png").content
    svg = _stranger(client).get(f"/credentials/{credential_id}/badge.svg").content
    assert present(baking.unbake(png)).text == stored.strip()
    assert present(baking.unbake(svg)).text == stored.strip()
    assert present(oblib.extract_png(png, keyword=oblib.ITXT_KEYWORD_OB3)).strip() == stored.strip()
    extracted = oblib.extract_svg(svg, element=oblib.SVG_ELEMENT_OB3, text_fallback=True)
    assert present(extracted).strip() == stored.strip()
    assert Image.open(io.BytesIO(png)).size == (600, 600)  # the generated default badge
    for image in (png, svg):
        assert EMAIL.lower().encode() not in image.lower()
    for image, media_type in ((png, "image/png"), (svg, "image/svg+xml")):
        report = client.post(
            "/api/v1/verify", content=image, headers={"content-type": media_type}
        ).json()
        assert report["verdict"] == "valid", report


# --- refusals: claim tokens ----------------------------------------------------------------


def test_expired_claim_token_is_refused_and_changes_nothing(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    out = _issue(client, world)
    link = _claim_link(_outbox(settings)[0])
    [row] = _tokens(engine)
    _update(engine, ClaimToken, pk(row), expires_at=datetime.now(UTC) - timedelta(minutes=1))
    page = client.get(_path(link), headers=HTML)
    assert page.status_code == 410 and "expired" in page.text
    form = {"token": _token(link)} | csrf_fields(client)
    posted = client.post(urlsplit(link).path, data=form, follow_redirects=False)
    assert posted.status_code == 410
    assert "shub_learner" not in client.cookies
    [after] = _tokens(engine)
    assert after.used_at is None
    assert client.get(f"/credentials/{out['id']}/manage").status_code == 403


def test_reused_claim_token_is_refused(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    out = _issue(client, world)
    link = _claim_link(_outbox(settings)[0])
    _claim(client, link)
    before = [(t.purpose, t.used_at) for t in _tokens(engine)]
    # The learner's own browser goes straight to the learner view.
    again = client.get(_path(link), headers=HTML, follow_redirects=False)
    assert again.status_code == 303
    # Anyone else (a forwarded e-mail) is refused, and no second session appears.
    other = _stranger(client)
    page = other.get(_path(link), headers=HTML)
    assert page.status_code == 403 and "already claimed" in page.text
    form = {"token": _token(link)} | csrf_fields(other)
    posted = other.post(urlsplit(link).path, data=form, follow_redirects=False)
    assert posted.status_code == 403 and "already claimed" in posted.text
    assert "shub_learner" not in other.cookies
    assert [(t.purpose, t.used_at) for t in _tokens(engine)] == before
    assert other.get(f"/credentials/{out['id']}/manage").status_code == 403
    _set_public_denied = other.post(
        f"/credentials/{out['id']}/manage/visibility", data={"public": "1"} | csrf_fields(other)
    )
    assert _set_public_denied.status_code == 403
    assert _fresh(engine, out["id"]).public is False


def test_someone_elses_token_opens_nothing(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    mine = _issue(client, world)
    theirs = _issue(client, world, name="Grace Hopper", email="grace@example.org")
    my_link, their_link = (_claim_link(m) for m in _outbox(settings))
    # Their token on my credential's address.
    wrong = f"/credentials/{mine['id']}/claim?token={_token(their_link)}"
    assert client.get(wrong, headers=HTML).status_code == 404
    posted = client.post(
        f"/credentials/{mine['id']}/claim",
        data={"token": _token(their_link)} | csrf_fields(client),
        follow_redirects=False,
    )
    assert posted.status_code == 404
    assert (
        client.get(f"/credentials/{mine['id']}/claim?token=nope", headers=HTML).status_code == 404
    )
    assert all(t.used_at is None for t in _tokens(engine))
    assert "shub_learner" not in client.cookies
    # My session does not open their learner view, and a session token is not a claim token.
    _claim(client, my_link)
    session_token = client.cookies.get("shub_learner")
    assert client.get(f"/credentials/{theirs['id']}/manage").status_code == 403
    crafted = _stranger(client)
    crafted.cookies.set("shub_learner", session_token, path=f"/credentials/{theirs['id']}")
    assert crafted.get(f"/credentials/{theirs['id']}/manage").status_code == 403
    assert (
        _stranger(client)
        .get(f"/credentials/{mine['id']}/claim?token={session_token}", headers=HTML)
        .status_code
        == 404
    )
    assert _fresh(engine, theirs["id"]).public is False


def test_new_claim_link_replaces_the_old_one(
    client: TestClient, world: World, settings: Settings, session: Session, master_key: str
) -> None:
    out = _issue(client, world)
    first = _claim_link(_outbox(settings)[0])
    sent = client.post("/api/v1/claim-links", json={"credential": out["id"]}, headers=_auth(world))
    assert sent.status_code == 201 and sent.json()["sent"] is True
    second = _claim_link(_outbox(settings)[1])
    assert _stranger(client).get(_path(first), headers=HTML).status_code == 410
    _claim(client, second)
    other = make_world(session, master_key, slug="otheracademy")
    refused = client.post(
        "/api/v1/claim-links", json={"credential": out["id"]}, headers=_auth(other)
    )
    assert refused.status_code == 404


def test_issuer_default_makes_new_pages_public(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = client.put(
        f"/api/v1/issuers/{world.issuer.slug}/sharing",
        json={"public_by_default": True},
        headers=_auth(world),
    )
    assert response.json() == {"issuer": world.issuer.slug, "public_by_default": True}
    out = _issue(client, world)
    assert _fresh(engine, out["id"]).public is True
    assert _stranger(client).get(f"/credentials/{out['id']}", headers=HTML).status_code == 200


def test_another_organisation_cannot_set_the_sharing_default(
    client: TestClient, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otheracademy")
    refused = client.put(
        f"/api/v1/issuers/{world.issuer.slug}/sharing",
        json={"public_by_default": True},
        headers=_auth(other),
    )
    assert refused.status_code == 403
    out = _issue(client, world)
    assert _stranger(client).get(f"/credentials/{out['id']}", headers=HTML).status_code == 404


def test_bulk_issue_mails_every_learner(
    client: TestClient, world: World, settings: Settings
) -> None:
    csv = "name,email\nAda Lovelace,ada@example.org\nGrace Hopper,grace@example.org\n"
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk?micro_credential={world.mc.slug}",
        content=csv,
        headers=_auth(world) | {"content-type": "text/csv"},
    )
    assert response.status_code == 202
    recipients = sorted(m["To"].addresses[0].addr_spec for m in _outbox(settings))
    assert recipients == ["ada@example.org", "grace@example.org"]


def test_europass_is_offered_only_when_europass_would_accept_it(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    from catalogue.models import Organisation
    from keys import eseal
    from keys.eseal_models import SealCertificate

    credential_id = _public(client, world, settings)
    manage = f"/credentials/{credential_id}/manage"
    link = f'href="/credentials/{credential_id}/europass"'
    page = client.get(manage).text
    assert "europass.europa.eu" in page and "My Library" in page  # how to add it, always
    assert link not in page and "has not set one up" in page  # no seal: why not
    with Session(engine) as fresh:
        org = fresh.get(Organisation, world.org.id)
        assert org is not None
        cert, key = eseal.generate_test_seal(org)
        eseal.import_certificate(fresh, world.master_key, org, cert, key)
        fresh.commit()
    page = client.get(manage).text
    assert link not in page and "is a test certificate" in page
    with Session(engine) as fresh:  # as if it were a qualified certificate
        [seal] = fresh.exec(select(SealCertificate)).all()
        seal.self_signed = False
        fresh.add(seal)
        fresh.commit()
    page = client.get(manage).text
    assert link in page and 'data-europass="unavailable"' not in page
    europass = {"type": "http", "method": "GET", "path": f"/credentials/{credential_id}/europass"}
    assert isinstance(client.app, FastAPI)
    routes = client.app.router.routes
    routes[:] = [r for r in routes if r.matches(europass)[0] is not Match.FULL]
    assert link not in client.get(manage).text


def test_forget_this_browser_ends_the_session(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    credential_id = _public(client, world, settings)
    assert [t.purpose for t in _tokens(engine)] == ["claim", "session"]
    response = client.post(
        f"/credentials/{credential_id}/manage/forget",
        data=csrf_fields(client),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "shub_learner" not in client.cookies
    assert [t.purpose for t in _tokens(engine)] == ["claim"]
    assert client.get(f"/credentials/{credential_id}/manage").status_code == 403
    # The page stays public: forgetting a browser changes no share setting.
    assert client.get(f"/credentials/{credential_id}", headers=HTML).status_code == 200


def test_forget_at_an_odd_address_is_no_error(client: TestClient, world: World) -> None:
    """Non-latin-1 or `;` in the id broke the cookie header (a 500, found by schemathesis)."""
    for odd in ("%C2%AC%F3%AF%87%A4", "x%3B%20Domain%3Devil.example"):
        response = client.post(
            f"/credentials/{odd}/manage/forget", data=csrf_fields(client), follow_redirects=False
        )
        assert response.status_code == 303, response.text
        cookie = response.headers["set-cookie"]
        assert f"Path=/credentials/{odd}" in cookie and "Domain=" not in cookie


def test_with_seal_trust_anchors_europass_needs_a_seal_chaining_to_one(
    client: TestClient, world: World, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization

    from catalogue.models import Organisation
    from keys import eseal
    from keys.eseal_models import SealCertificate

    credential_id = _public(client, world, settings)
    with Session(engine) as fresh:
        org = fresh.get(Organisation, world.org.id)
        assert org is not None
        cert, key = eseal.generate_test_seal(org)
        eseal.import_certificate(fresh, world.master_key, org, cert, key)
        [seal] = fresh.exec(select(SealCertificate)).all()
        seal.self_signed = False  # as if it were a qualified certificate
        fresh.add(seal)
        fresh.commit()
    link = f'href="/credentials/{credential_id}/europass"'
    other, _ = eseal.generate_test_seal(Organisation(slug="x", legal_name="Other CA", country="DE"))
    for anchor, offered in ((other, False), (cert, True)):
        anchors = tmp_path / "anchors.pem"
        anchors.write_bytes(anchor.public_bytes(serialization.Encoding.PEM))
        app = create_app(settings.model_copy(update={"seal_trust_anchors": anchors}), engine=engine)
        with TestClient(app, cookies=client.cookies) as browser:
            page = browser.get(f"/credentials/{credential_id}/manage")
            assert page.status_code == 200
            assert (link in page.text) is offered, anchor.subject
            if not offered:
                assert "not from a trust service" in page.text
