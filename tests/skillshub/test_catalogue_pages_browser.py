"""The catalogue pages in headless Chromium against a live server: search, open a
micro-credential, fill in the skills-gap form; every image loads and the console stays clean."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlmodel import Session

from catalogue import gap
from catalogue.demo import SKILL_IRIS, load_demo_catalogue
from tests.support.catalogue import bearer, provider_token

pytestmark = pytest.mark.browser

NO_BROKEN_IMAGES = """() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
    .map(i => i.getAttribute('src'))"""
ROLE = "battery-system-engineer"


@pytest.fixture
def catalogue(session: Session, live_server: str) -> None:
    """The demo catalogue, with an uploaded badge image on one micro-credential."""
    load_demo_catalogue(session)
    session.commit()
    buffer = io.BytesIO()
    Image.new("RGB", (240, 240), "#1d4ed8").save(buffer, "PNG")
    uploaded = httpx.put(
        f"{live_server}/api/v1/micro-credentials/battery-cell-specialist/image",
        content=buffer.getvalue(),
        headers={**bearer(provider_token(session, "voltacademy")), "content-type": "image/png"},
    )
    assert uploaded.status_code == 200, uploaded.text


def _console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_search_then_micro_credential_then_gap(
    browser_page: Any, catalogue: None, session: Session, tmp_path: Path
) -> None:
    page = browser_page
    errors = _console_errors(page)

    page.goto("/")
    page.get_by_role("link", name="Catalogue", exact=True).click()
    page.get_by_label("Search skills, job roles, courses and micro-credentials").fill("cell")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/search?q=cell*")
    result = page.locator("li.result", has_text="Battery Cell Specialist")
    assert result.locator(".kind").inner_text().lower() == "micro-credential"
    result.get_by_role("link", name="Battery Cell Specialist").click()
    page.wait_for_url("**/micro-credentials/battery-cell-specialist")
    assert page.locator("h1").inner_text() == "Battery Cell Specialist"
    assert page.locator("[data-element=level]").inner_text().startswith("EQF Level 6")
    assert page.locator("[data-element=learner]").is_visible()
    badge = page.get_by_role(
        "img", name="Badge image of the micro-credential Battery Cell Specialist"
    )
    assert badge.evaluate("i => i.naturalWidth") == 240
    assert page.evaluate(NO_BROKEN_IMAGES) == []
    page.screenshot(path=str(tmp_path / "micro-credential.png"), full_page=True)

    page.get_by_role("link", name="Skills gap").click()
    page.get_by_label("Job role").select_option(ROLE)
    page.get_by_role("button", name="Next: your skills").click()
    page.wait_for_url(f"**/gap?job_role={ROLE}")
    page.get_by_label("battery chemistry").check()
    page.get_by_label("Or paste skill IRIs").fill(SKILL_IRIS["analyse test data"])
    page.get_by_role("button", name="Show my gap").click()
    page.wait_for_selector("#result")
    expected = gap.gap(
        session, ROLE, [SKILL_IRIS["battery chemistry"], SKILL_IRIS["analyse test data"]]
    )
    missing = page.locator("#missing tr[data-essential] td:first-child").all_inner_texts()
    assert missing == [m.label for m in expected.missing]
    steps = page.locator("ol.path h4").all_inner_texts()
    assert steps == [p.course.title for p in expected.path]
    assert page.evaluate("location.hash") == "#result"
    assert page.evaluate(NO_BROKEN_IMAGES) == []
    page.screenshot(path=str(tmp_path / "gap.png"), full_page=True)

    assert errors == []
    assert page.evaluate("document.querySelectorAll('script').length") == 0


def test_narrow_screen_has_no_sideways_scroll(browser_page: Any, catalogue: None) -> None:
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    for url in (
        "/search?q=battery",
        "/micro-credentials/battery-cell-specialist",
        f"/job-roles/{ROLE}",
        f"/gap?job_role={ROLE}&show=1",
        "/courses/battery-cell-chemistry-and-design",
    ):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)


def test_keyboard_reaches_the_gap_form_with_a_visible_focus(
    browser_page: Any, catalogue: None
) -> None:
    page = browser_page
    page.goto(f"/gap?job_role={ROLE}")
    page.focus("#job_role")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('type')")
    assert focused == "checkbox"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_a_german_reader_switches_language_and_browses(browser_page: Any, catalogue: None) -> None:
    """The visible switch turns the pages German and keeps them so; long German words still
    fit a narrow screen."""
    page = browser_page
    errors = _console_errors(page)
    page.goto("/")
    assert page.locator("h1").inner_text() == "Micro-credentials that prove skills"
    page.get_by_role("link", name="Deutsch").click()
    page.wait_for_url("**/?lang=de")
    assert page.locator("h1").inner_text() == "Microcredentials, die Fähigkeiten belegen"
    assert page.evaluate("document.documentElement.lang") == "de"
    # Remembered: the next pages, without ?lang=, are German too.
    page.get_by_role("link", name="Katalog", exact=True).click()
    page.get_by_label("Fähigkeiten, Berufsrollen, Kurse und Microcredentials suchen").fill("cell")
    page.get_by_role("button", name="Suchen", exact=True).click()
    page.wait_for_url("**/search?q=cell*")
    result = page.locator("li.result", has_text="Battery Cell Specialist")
    assert result.locator(".kind").inner_text().lower() == "microcredential"
    result.get_by_role("link", name="Battery Cell Specialist").click()
    page.wait_for_url("**/micro-credentials/battery-cell-specialist")
    assert page.locator("#mandatory-heading").inner_text() == "Pflichtangaben"
    assert page.locator("[data-element=level]").inner_text().startswith("EQR Niveau 6")
    page.set_viewport_size({"width": 360, "height": 740})
    for url in (
        "/micro-credentials/battery-cell-specialist",
        f"/job-roles/{ROLE}",
        f"/gap?job_role={ROLE}&show=1",
        "/courses/battery-cell-chemistry-and-design",
        "/search?q=battery",
    ):
        page.goto(url)
        assert page.evaluate("document.documentElement.lang") == "de", url
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)
    assert errors == []
