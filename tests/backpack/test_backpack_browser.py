"""The backpack in headless Chromium against a live server: a learner with badges from two
providers signs in by e-mail link and sees both in one place, imports a third from another
issuer (a baked PNG), shares a profile that a stranger opens, and deletes their account.
Every backpack page passes axe-core (no serious or critical violation) and fits 360 px."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import Session

from badges import baking
from skillshub.settings import Settings
from tests.backpack.support import sign_in_links
from tests.support import own
from tests.support.console_browser import axe_violations
from tests.support.qr import read_qr
from tests.support.world import World, make_world

pytestmark = pytest.mark.browser

EMAIL = "ada.lovelace@example.org"


def _issue(server: str, world: World) -> str:
    response = httpx.post(
        f"{server}/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": EMAIL},
        headers={"authorization": f"Bearer {world.token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _sign_in_link(settings: Settings) -> str:
    deadline = time.monotonic() + 20
    while not (links := sign_in_links(settings)):
        assert time.monotonic() < deadline, "no sign-in e-mail in the outbox"
        time.sleep(0.05)
    link = urlsplit(links[-1][1])
    return f"{link.path}?{link.query}"


def _check_page(page: Any, problems: list[str]) -> None:
    """axe-core at 1280 px, and no sideways scrolling at 360 px."""
    path = urlsplit(page.url).path
    problems += [f"{path}: {v}" for v in axe_violations(page)]
    page.set_viewport_size({"width": 360, "height": 800})
    wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if wide > 0:
        problems.append(f"{path}: scrolls sideways by {wide} px at 360 px wide")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_two_providers_an_import_a_profile_and_leaving(
    browser_page: Any,
    chromium: Any,
    live_server: str,
    session: Session,
    world: World,
    master_key: str,
    settings: Settings,
) -> None:
    other = make_world(session, master_key, slug="gridschool")
    session.commit()
    first, second = _issue(live_server, world), _issue(live_server, other)
    page = browser_page
    problems: list[str] = []

    # Sign in without a password.
    page.goto("/backpack")
    _check_page(page, problems)
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    page.wait_for_selector("#sent")
    page.goto(_sign_in_link(settings))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/backpack\?notice=signed_in"))

    # Both providers' badges in one place, claimed in one step.
    cards = page.locator("#hub-badges > li")
    assert cards.count() == 2
    assert {cards.nth(i).get_attribute("data-badge") for i in range(2)} == {first, second}
    assert page.locator("#hub-badges").get_by_text("Gridschool Badges").count() == 1
    _check_page(page, problems)
    page.get_by_role("button", name="Add all 2 new badges to my backpack").click()
    page.wait_for_url(re.compile(r"notice=claimed_all"))
    assert page.locator("[data-manage]").count() == 2
    page.locator(f'[data-badge="{first}"] [data-manage]').click()
    page.wait_for_url(f"**/credentials/{first}/manage")
    assert page.get_by_role("heading", name="Share settings").count() == 1
    # Signed in to the backpack (no claim link): the badge goes to a wallet by its offer's QR
    # code, which scans to the openid-credential-offer:// link.
    page.get_by_role("button", name="Add to wallet").click()
    offer = page.get_by_role("link", name="open the offer in your wallet").get_attribute("href")
    assert offer.startswith("openid-credential-offer://?credential_offer_uri=")
    qr = page.get_by_role("img", name="QR code of the credential offer for your wallet")
    assert read_qr(qr.screenshot()) == offer

    # A third badge from another issuer, as a baked image.
    signer = own.Signer.ed25519()
    document = own.credential(signer.did, name="Heat pump installation")
    document["issuer"]["name"] = "Faraway Institute"
    png = baking.bake_png(own.png_bytes(), json.dumps(signer.data_integrity(document)))
    page.goto("/backpack/import")
    _check_page(page, problems)
    page.get_by_label(re.compile("A file")).set_input_files(
        {"name": "badge.png", "mimeType": "image/png", "buffer": png}
    )
    page.get_by_role("button", name="Check and add").click()
    page.wait_for_url(re.compile(r"notice=imported"))
    imported = page.locator("#imported-badges > li")
    assert imported.count() == 1
    assert "Faraway Institute" in imported.inner_text()
    assert "unverified: the issuer's own words" in imported.inner_text()
    imported.get_by_role("link").click()
    page.wait_for_selector('[data-verdict="valid"]')
    _check_page(page, problems)
    page.goto("/backpack/sessions")
    assert page.locator("[data-session]").count() == 1
    _check_page(page, problems)

    # A tampered badge is refused with the verifier's reason.
    page.goto("/backpack/import")
    document["name"] = "Forged"
    page.get_by_label("Or paste the credential").fill(json.dumps(document))
    page.get_by_role("button", name="Check and add").click()
    page.wait_for_selector("#import-error")
    assert "Not added." in page.locator("#import-error").inner_text()

    # Share: a public profile with the badges the learner picks.
    page.goto("/backpack/share")
    page.get_by_label("Handle").fill("ada-lovelace")
    page.get_by_label("Name shown").fill("Ada Lovelace")
    page.get_by_label("Anyone with the link can see my profile").check()
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url(re.compile(r"notice=profile"))
    page.locator("[data-share] >> text=Show it on my profile").first.click()
    page.wait_for_url(re.compile(r"notice=shown"))
    _check_page(page, problems)
    stranger = chromium.new_context(base_url=live_server)
    try:
        public = stranger.new_page()
        response = public.goto("/profiles/ada-lovelace")
        assert response.status == 200
        assert public.locator("#profile-badges > li").count() == 1
        og = public.locator('meta[property="og:title"]').get_attribute("content")
        assert og == "Badges of Ada Lovelace"
        assert EMAIL not in public.content()
        _check_page(public, problems)

        # Leave: an export first, then the account and its personal data are gone.
        page.goto("/backpack/leave")
        _check_page(page, problems)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download everything (zip)").click()
        assert download.value.suggested_filename == "my-badges.zip"
        page.get_by_label(re.compile("I understand")).check()
        page.get_by_role("button", name="Delete my account").click()
        page.wait_for_selector("#left")
        page.goto("/backpack")
        assert page.get_by_role("heading", name="Sign in with your e-mail address").count() == 1
        assert public.goto("/profiles/ada-lovelace").status == 404
        assert public.goto(f"/credentials/{first}").status == 404
    finally:
        stranger.close()
    assert problems == []
