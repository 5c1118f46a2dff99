"""The organisation, sign-in security and audit-log pages in headless Chromium: at 360 px
wide nothing scrolls sideways, and axe-core (from the npm registry, tests/interop) finds no
serious or critical violation; the authenticator set-up is done by keyboard alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from accounts import members, sessions
from accounts.audit import Actor
from accounts.roles import Role
from keys import eseal
from keys.sealing import MasterKey
from skillshub.web.console.auth import COOKIE
from tests.support.console import add_user
from tests.support.world import make_world

AXE = Path(__file__).parents[1] / "interop" / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.browser


def _check(page: Any, path: str) -> None:
    page.goto(path)
    assert page.title(), path
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:  # name what sticks out (outside scroll boxes), to say what to fix
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter(e => !e.closest('.table-scroll'))"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(0, 8).map(e => e.tagName + '.' + e.className)"
        )
        raise AssertionError(f"{path} scrolls sideways by {overflow}px at 360px: {wide}")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    assert found == [], f"{path}: {found}"


def test_console_org_pages_at_360px_pass_axe(
    chromium: Any, live_server: str, session: Session, master_key: str
) -> None:
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing (npm ci in tests/interop)")
    world = make_world(session, master_key)
    owner = add_user(session, world.org, Role.owner, email="owner@voltacademy.example")
    add_user(session, world.org, Role.viewer, email="viewer@voltacademy.example")
    _, token = members.invite(
        session, owner, world.org, "new@example.org", Role.issuer, actor=Actor.for_user(owner)
    )
    cert, key = eseal.generate_test_seal(world.org, days=20)
    eseal.import_certificate(session, MasterKey(master_key), world.org, cert, key)
    cookie, _ = sessions.start_session(session, owner)
    session.commit()

    context = chromium.new_context(  # axe is injected as a script: past our own CSP
        base_url=live_server, viewport={"width": 360, "height": 740}, bypass_csp=True
    )
    context.add_cookies([{"name": COOKIE, "value": cookie, "url": live_server}])
    page = context.new_page()
    base = f"/console/orgs/{world.org.slug}"
    for path in [
        f"{base}/organisation",
        f"{base}/organisation/tokens",
        f"{base}/organisation/identity",
        f"{base}/organisation/seal",
        f"{base}/organisation/members/{owner.id}/remove",
        f"{base}/audit",
        "/console/sessions",
        "/console/security",
    ]:
        _check(page, path)

    # The set-up by keyboard: Tab to the button, Enter; the QR code page passes too.
    page.goto("/console/security")
    page.focus("body")
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Set up an authenticator app":
            break
    assert focused == "Set up an authenticator app"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/console/security#setup")
    assert page.locator("img.qr").is_visible()
    _check(page, "/console/security")

    anonymous = chromium.new_context(
        base_url=live_server, viewport={"width": 360, "height": 740}, bypass_csp=True
    ).new_page()
    _check(anonymous, "/console/reset-password")
    _check(anonymous, f"/console/invite?token={token}")
    context.close()
