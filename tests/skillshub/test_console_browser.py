"""The console in headless Chromium, signed in as a demo owner: every console page checked with
axe-core (no serious or critical violation) and at 360 px wide (no sideways scrolling);
keyboard-only use; and the catalogue part of the provider journey (sign in, a micro-credential
with three ESCO skills found as you type, publish, in the public catalogue).

Pages are found from the console's navigation registry plus the catalogue's edit pages, so
pages added later are checked without changing this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from skillshub.demo import DEMO_PASSWORD
from skillshub.web.console import nav
from tests.support.console_browser import (
    DEMO_ORG,
    DEMO_OWNER,
    axe_violations,
    create_micro_credential,
    sign_in,
    tab_to,
)

pytestmark = pytest.mark.browser

ORG = DEMO_ORG
OWNER = DEMO_OWNER


@pytest.fixture
def owner_page(browser_page: Any, demo_catalogue: dict[str, str]) -> Iterator[Any]:
    page = browser_page
    sign_in(page, OWNER, DEMO_PASSWORD)
    yield page


def console_pages(demo_catalogue: dict[str, str]) -> list[str]:
    """Every console page an owner reaches: the navigation's, plus the catalogue's forms.
    (The hub operators' pages: tests/community/test_community_browser.py.)"""
    pages = [item.path.replace("{slug}", ORG) for item in nav.items() if not item.operators_only]
    pages += [
        f"/console/orgs/{ORG}/micro-credentials/new",
        f"/console/orgs/{ORG}/micro-credentials/{demo_catalogue['mc']}/edit",
        f"/console/orgs/{ORG}/courses/new",
        f"/console/orgs/{ORG}/courses/{demo_catalogue['course']}/edit",
    ]
    return list(dict.fromkeys(pages))


def test_every_console_page_passes_axe_and_fits_360_px(
    owner_page: Any, demo_catalogue: dict[str, str]
) -> None:
    page = owner_page
    checked: dict[str, int] = {}
    problems: list[str] = []
    for path in console_pages(demo_catalogue):
        for width in (1280, 360):
            page.set_viewport_size({"width": width, "height": 900})
            answer = page.goto(path)
            assert answer is not None and answer.status == 200, (path, answer and answer.status)
            if width == 1280:
                found = axe_violations(page)
                checked[path] = len(found)
                problems += [f"{path}: {v}" for v in found]
            else:
                wide = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                if wide > 0:
                    problems.append(f"{path}: scrolls sideways by {wide} px at 360 px wide")
    # A form with its errors shown is a page too.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/console/orgs/{ORG}/micro-credentials/new")
    page.click("button[value=save]")
    page.wait_for_selector("#error-summary")
    problems += [f"form with errors: {v}" for v in axe_violations(page)]
    page.set_viewport_size({"width": 360, "height": 900})
    if page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") > 0:
        problems.append("form with errors scrolls sideways at 360 px")
    assert len(checked) >= 6, checked
    assert not problems, "\n".join(problems)
    # Signed out: the sign-in page too.
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r"/console/login"))
    assert axe_violations(page) == []


def _add_skill(page: Any, outcome: int, words: str, label: str) -> None:
    tab_to(page, f"[name='learning_outcomes.{outcome}.q']")
    page.keyboard.type(words, delay=20)
    page.wait_for_selector(f"[data-outcome='{outcome}'] [role=option]:has-text('{label}')")
    for _ in range(10):
        page.keyboard.press("ArrowDown")
        # Null-safe: a late search answer may redraw the list between two key presses.
        active = page.evaluate(
            "() => { const id = document.activeElement.getAttribute('aria-activedescendant');"
            " const option = id && document.getElementById(id);"
            " return option ? option.textContent : null; }"
        )
        if active == label:
            break
    page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-outcome='{outcome}'] [data-chosen] label:has-text('{label}')")


def test_the_keyboard_alone_reaches_everything_and_fills_the_form(
    owner_page: Any, demo_catalogue: dict[str, str]
) -> None:
    page = owner_page
    page.goto(f"/console/orgs/{ORG}/catalogue")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content"
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#main"

    page.goto(f"/console/orgs/{ORG}/micro-credentials/new")
    tab_to(page, "[name=title]")
    page.keyboard.type("Keyboard-made credential")
    tab_to(page, "[name=course]")
    page.keyboard.type("Battery")  # a select's type-ahead picks the course by its label
    page.keyboard.press("Tab")
    tab_to(page, "[name='learning_outcomes.1.text']")
    page.keyboard.type("Designs a battery pack.")
    _add_skill(page, 1, "battery des", "battery design")
    tab_to(page, "[data-add-outcome]")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.name") == "learning_outcomes.2.text"
    page.keyboard.type("Chooses cell chemistry.")
    _add_skill(page, 2, "battery chem", "battery chemistry")
    for name, text in (
        ("eqf_level", "Level 5"),
        ("mode", "Online"),
        ("assessment_type", "written"),
        ("quality_assurance", "Institutional Q"),
    ):
        tab_to(page, f"[name={name}]")
        page.keyboard.type(text)
    tab_to(page, "[name=workload_hours]")
    page.keyboard.type("20")
    tab_to(page, "button[value=publish]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/catalogue\?notice=mc_published"))
    assert "Keyboard-made credential" in page.content()


def test_the_catalogue_part_of_the_journey(
    browser_page: Any, demo_catalogue: dict[str, str]
) -> None:
    page = browser_page
    page.goto(f"/console/orgs/{ORG}/catalogue")  # asks to sign in, and comes back
    page.wait_for_url(re.compile(r"/console/login"))
    sign_in(page, OWNER, DEMO_PASSWORD, then=r"/catalogue$")
    create_micro_credential(page, ORG, demo_catalogue["course"], "Battery workshop safety")
    page.goto(f"/organisations/{ORG}")
    page.click("text=Battery workshop safety")
    # Until the new page has loaded, content() may read an empty document.
    page.wait_for_url(re.compile(r"/micro-credentials/battery-workshop-safety$"))
    for label in ("battery design", "battery chemistry", "battery management systems"):
        assert label in page.content()
    page.goto("/search?q=battery+workshop+safety")
    assert page.locator("a", has_text="Battery workshop safety").count() >= 1


def test_the_maximum_duration_and_the_quality_assurance_body_in_the_editor(
    owner_page: Any, demo_catalogue: dict[str, str], engine: Any
) -> None:
    """Filled by their labels; a duration that is no ISO 8601 duration is refused next to
    its field, keeping what was typed; then both are saved."""
    from sqlmodel import Session, select

    from catalogue.models import MicroCredential

    page = owner_page
    page.goto(f"/console/orgs/{ORG}/micro-credentials/{demo_catalogue['mc']}/edit")
    page.get_by_label("Maximum duration").fill("six months")
    qa = page.get_by_role("group", name="Quality-assurance body")
    qa.get_by_label("Name").fill("Demo Quality Agency")
    qa.get_by_label("Country").select_option("BE")
    qa.get_by_label("Web site").fill("https://quality.example")
    page.get_by_role("button", name=re.compile("^Save")).first.click()
    page.wait_for_load_state()
    duration = page.get_by_label("Maximum duration")
    assert duration.get_attribute("aria-invalid") == "true"
    assert duration.input_value() == "six months"
    assert "write e.g. P6M" in page.inner_text("#f-maximum_duration-error")
    assert (
        page.get_by_role("group", name="Quality-assurance body").get_by_label("Name").input_value()
        == "Demo Quality Agency"
    )
    assert axe_violations(page) == []
    duration.fill("P6M")
    page.get_by_role("button", name=re.compile("^Save")).first.click()
    page.wait_for_url(re.compile(r"notice=mc_"))
    with Session(engine) as fresh:
        mc = fresh.exec(
            select(MicroCredential).where(MicroCredential.slug == demo_catalogue["mc"])
        ).one()
    assert mc.maximum_duration == "P6M"
    assert (mc.quality_assurance_body_name, mc.quality_assurance_body_country) == (
        "Demo Quality Agency",
        "BE",
    )
    assert mc.quality_assurance_body_homepage == "https://quality.example"
