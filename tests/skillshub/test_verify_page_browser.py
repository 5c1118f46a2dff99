"""The verify page in headless Chromium: a non-expert's view, and hostile content as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from badges.baking import bake_png
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.own import Signer, credential, png_bytes

pytestmark = pytest.mark.browser

HOSTILE = '<script>window.pwned = 1; alert("x")</script><img src=x onerror="window.pwned=2">'


@pytest.fixture
def live_app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings.model_copy(update={"fetch_offline": True}), engine=engine)


def _dialogs(page: Any) -> list[str]:
    seen: list[str] = []

    def dismiss(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return seen


def test_hostile_name_renders_as_text(browser_page: Any) -> None:
    page = browser_page
    dialogs = _dialogs(page)
    signer = Signer.ed25519()
    signed = signer.data_integrity(credential(signer.did, name=HOSTILE))
    page.goto("/verify")
    page.fill("#credential", json.dumps(signed))
    page.click("button[type=submit]")
    page.wait_for_selector("#verdict")
    assert "Authentic, but the issuer is not known to us" in page.inner_text("#verdict")
    assert page.inner_text("#achievement").startswith(HOSTILE)
    assert page.evaluate("document.querySelectorAll('main script, main img').length") == 0
    assert page.evaluate("window.pwned === undefined")
    assert dialogs == []


def test_upload_a_baked_image(browser_page: Any, tmp_path: Path) -> None:
    page = browser_page
    signer = Signer.ed25519()
    image = tmp_path / "badge.png"
    image.write_bytes(bake_png(png_bytes(), signer.jwt(credential(signer.did))))
    page.goto("/verify")
    page.set_input_files("#file", str(image))
    page.click("button[type=submit]")
    page.wait_for_selector("#verdict")
    assert "Authentic" in page.inner_text("#verdict")  # genuine; a did:key nobody vouches for
    page.click("#technical summary")  # the checks are folded under the technical details
    assert "passed" in page.inner_text("[data-check=proof]")
    assert "maintain battery systems" in page.inner_text("main")


def test_tampered_badge_says_not_valid(browser_page: Any) -> None:
    page = browser_page
    signer = Signer.ed25519()
    signed = signer.data_integrity(credential(signer.did))
    signed["validFrom"] = "2024-01-01T00:00:00Z"
    page.goto("/verify")
    page.fill("#credential", json.dumps(signed))
    page.click("button[type=submit]")
    page.wait_for_selector("#verdict")
    assert "Not valid" in page.inner_text("#verdict")
    page.click("#technical summary")
    assert "failed" in page.inner_text("[data-check=proof]")
