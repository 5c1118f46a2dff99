"""The learner's "Add to wallet" in headless Chromium: from the manage page to the offer page,
whose QR code a wallet reads; both pages pass axe-core and fit a 360 px phone."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from skillshub.settings import Settings
from tests.badges.sharing.test_learner import EMAIL, _claim_link
from tests.badges.sharing.test_learner_browser import NO_BROKEN_IMAGES, _first_mail
from tests.support.console_browser import axe_violations
from tests.support.qr import read_qr
from tests.support.wallet import PRE_AUTHORIZED, offer_path
from tests.support.world import World

pytestmark = pytest.mark.browser

WIDE = "() => document.documentElement.scrollWidth - window.innerWidth"


def _fits(page: Any) -> None:
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate(WIDE) <= 0
    page.set_viewport_size({"width": 1280, "height": 900})


def test_add_to_wallet_from_the_badge_page(
    browser_page: Any, live_server: str, world: World, settings: Settings
) -> None:
    issued = httpx.post(
        f"{live_server}/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": EMAIL},
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert issued.status_code == 201, issued.text
    credential_id = issued.json()["id"]
    link = urlsplit(_claim_link(_first_mail(settings)))
    page = browser_page
    page.goto(f"{link.path}?{link.query}")
    page.get_by_role("button", name="Claim my badge").click()
    page.wait_for_url(f"**/credentials/{credential_id}/manage")
    assert "has not set one up" in page.inner_text("[data-europass=unavailable]")
    _fits(page)

    page.get_by_role("button", name="Add to wallet").click()
    page.wait_for_selector("[data-offer-link]")
    assert page.evaluate(NO_BROKEN_IMAGES) == []
    offer = page.get_by_role("link", name="open the offer in your wallet").get_attribute("href")
    assert offer.startswith("openid-credential-offer://?credential_offer_uri=")
    source = page.get_by_role("img", name="QR code of the credential offer for your wallet")
    data = source.get_attribute("src").removeprefix("data:image/png;base64,")
    assert read_qr(base64.b64decode(data)) == offer
    _fits(page)

    document = httpx.get(f"{live_server}{offer_path(offer)}").json()
    assert PRE_AUTHORIZED in document["grants"]
