"""The German console in headless Chromium, signed in as a demo owner: the language switch
reached and used with the keyboard alone, German pages that pass axe-core and fit 360 px, a
German form error, and the catalogue editor's script speaking German as you type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from skillshub.demo import DEMO_PASSWORD
from tests.support.console_browser import DEMO_ORG, DEMO_OWNER, axe_violations, sign_in, tab_to

pytestmark = pytest.mark.browser

ORG = DEMO_ORG


@pytest.fixture
def owner_page(browser_page: Any, demo_catalogue: dict[str, str]) -> Iterator[Any]:
    page = browser_page
    sign_in(page, DEMO_OWNER, DEMO_PASSWORD)
    yield page


def test_the_switch_by_keyboard_and_german_pages_that_pass_axe(owner_page: Any) -> None:
    page = owner_page
    page.goto(f"/console/orgs/{ORG}/catalogue")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    # The switch: a link named "Deutsch", reached with Tab, followed with Enter.
    tab_to(page, "a[hreflang=de]")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Deutsch"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"lang=de"))
    assert page.evaluate("() => document.documentElement.lang") == "de"
    assert page.locator("h1").inner_text() == "Katalog"

    problems: list[str] = []
    for path in (
        "/console",
        f"/console/orgs/{ORG}/catalogue",
        f"/console/orgs/{ORG}/issue/bulk",
        f"/console/orgs/{ORG}/recipients",
        f"/console/orgs/{ORG}/organisation",
        "/console/security",
    ):
        for width in (1280, 360):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)  # the cookie keeps German
            assert page.evaluate("() => document.documentElement.lang") == "de", path
            if width == 1280:
                problems += [f"{path}: {v}" for v in axe_violations(page)]
            elif page.evaluate("() => document.documentElement.scrollWidth - innerWidth") > 0:
                problems.append(f"{path}: scrolls sideways at 360 px")
    assert not problems, "\n".join(problems)


def test_a_german_form_and_the_editor_speaking_german(owner_page: Any) -> None:
    page = owner_page
    page.goto(f"/console/orgs/{ORG}/micro-credentials/new?lang=de")
    page.click("button[value=save]")
    page.wait_for_selector("#error-summary")
    title = page.locator("#error-summary-title").inner_text()
    assert re.fullmatch(r"\d+ Fehler zu beheben \u2013 nichts wurde gespeichert", title), title
    assert axe_violations(page) == []

    page.type("[name='learning_outcomes.1.q']", "battery", delay=20)
    page.wait_for_selector("[data-outcome='1'] [role=option]")
    listbox = page.locator("[data-outcome='1'] [role=listbox]")
    assert listbox.get_attribute("aria-label") == "Passende Fähigkeiten"
    said = page.locator("[data-outcome='1'] [data-skill-hits]").inner_text()
    assert "gefunden" in said and "found" not in said, said
    page.click("[data-add-outcome]")
    label = page.locator("[data-outcome='2'] label[for$='-text']").inner_text()
    assert label == "Lernergebnis 2"
