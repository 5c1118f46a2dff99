"""The learner's pages in headless Chromium against a live server: claim from the e-mailed
link, make the page public, and a stranger sees it whole (images load, OG tags, QR code)."""

from __future__ import annotations

import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from skillshub.settings import Settings
from tests.badges.sharing.test_learner import EMAIL, _claim_link, _outbox
from tests.support.qr import read_qr
from tests.support.world import World

pytestmark = pytest.mark.browser

NO_BROKEN_IMAGES = """() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
    .map(i => i.getAttribute('src'))"""


def _first_mail(settings: Settings) -> EmailMessage:
    """The e-mail goes out after the response (a background task): wait for it."""
    deadline = time.monotonic() + 20
    while not (messages := _outbox(settings)):
        assert time.monotonic() < deadline, "no e-mail in the outbox"
        time.sleep(0.05)
    return messages[0]


def _og(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
            'meta[property^="og:"], meta[name^="twitter:"]')]
            .map(m => [m.getAttribute('property') || m.getAttribute('name'), m.content]))"""
    )


def test_claim_publish_and_view_in_chromium(
    browser_page: Any,
    chromium: Any,
    live_server: str,
    world: World,
    settings: Settings,
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
    assert page.evaluate(NO_BROKEN_IMAGES) == []
    assert (
        page.get_by_role("link", name="Add to LinkedIn profile")
        .get_attribute("href")
        .startswith("https://www.linkedin.com/profile/add?")
    )
    page.get_by_role("button", name="Make the page public").click()
    page.wait_for_selector("[data-visibility=public]")

    stranger = chromium.new_context(base_url=live_server)
    try:
        public = stranger.new_page()
        response = public.goto(f"/credentials/{credential_id}")
        assert response.status == 200
        public.wait_for_load_state("load")
        assert public.evaluate(NO_BROKEN_IMAGES) == []
        assert public.locator("img").count() >= 2  # the badge and the QR code
        tags = _og(public)
        page_url = f"{settings.base_url}/credentials/{credential_id}"
        assert tags["og:url"] == page_url
        assert tags["og:image"] == f"{page_url}/badge.png"
        assert tags["og:title"].startswith(world.mc.title)
        assert tags["og:description"] and tags["twitter:card"] == "summary"
        assert public.locator("[data-status]").get_attribute("data-status") == "valid"
        assert EMAIL.lower() not in public.content().lower()
        # The QR code as Chromium draws it decodes to the page's address.
        shot = public.locator("img[alt^='QR code']").screenshot()
        assert read_qr(shot) == page_url
    finally:
        stranger.close()
