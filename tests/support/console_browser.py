"""Shared steps of the console's browser tests (tests/browser.py has the server and Chromium).

Fixture (tests/conftest.py lists this module in `pytest_plugins`): `demo_catalogue`, the demo
hub loaded into the test database, as the slugs of one of voltacademy's courses and
micro-credentials. Helpers: `sign_in` (the real form) and `create_micro_credential` (a
draft with three ESCO skills found as you type, saved, then published from the list).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalogue.models import Course, MicroCredential, Organisation
from skillshub.demo import load_demo
from skillshub.settings import Settings

AXE = Path(__file__).parents[1] / "interop" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
DEMO_ORG = "voltacademy"
DEMO_OWNER = f"owner@{DEMO_ORG}.example"
THREE_SKILLS = (
    ("battery des", "battery design"),
    ("battery chem", "battery chemistry"),
    ("battery manag", "battery management systems"),
)


@pytest.fixture
def demo_catalogue(settings: Settings, engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        load_demo(session, settings)
        session.commit()
        org = session.exec(select(Organisation).where(Organisation.slug == DEMO_ORG)).one()
        course = session.exec(select(Course).where(Course.organisation_id == org.id)).first()
        assert course is not None
        mc = session.exec(
            select(MicroCredential).where(MicroCredential.course_id == course.id)
        ).first()
        assert mc is not None
        return {"course": course.slug, "mc": mc.slug}


def sign_in(page: Any, email: str, password: str, *, then: str = r"/console$") -> None:
    """Through /console/login (goes there unless the page is on it already)."""
    if "/console/login" not in page.url:
        page.goto("/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(then))


def create_micro_credential(page: Any, org: str, course: str, title: str) -> None:
    """From the catalogue page: a new micro-credential with THREE_SKILLS, saved as a draft,
    then published; ends on the catalogue with the "published" notice."""
    page.goto(f"/console/orgs/{org}/catalogue")
    page.click("text=New micro-credential")
    page.fill("[name=title]", title)
    page.select_option("[name=course]", course)
    page.fill("[name='learning_outcomes.1.text']", "Works safely on battery packs.")
    for words, label in THREE_SKILLS:
        page.fill("[name='learning_outcomes.1.q']", "")
        page.type("[name='learning_outcomes.1.q']", words, delay=20)
        option = page.locator("[data-outcome='1'] [role=option]", has_text=re.compile(f"^{label}$"))
        option.click()
        page.wait_for_selector(f"[data-chosen] label:has-text('{label}')")
    page.select_option("[name=eqf_level]", "5")
    page.fill("[name=workload_hours]", "16")
    page.select_option("[name=mode]", "presential")
    page.select_option("[name=assessment_type]", "practical-assessment")
    page.select_option("[name=quality_assurance]", "institutional-quality-assurance")
    page.set_input_files("[name=badge_image]", files=[])
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"notice=mc_saved"))
    row = page.locator("tr", has_text=title)
    assert row.locator(".state").inner_text() == "draft"
    row.locator("button", has_text="Publish").click()
    page.wait_for_url(re.compile(r"notice=mc_published"))
    assert page.locator("tr", has_text=title).locator(".state").inner_text() == "published"


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `make setup-test` (npm installs axe-core)")
    # Through the DevTools protocol: the page's CSP (no inline script) stays in force.
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def tab_to(page: Any, selector: str, most: int = 250) -> None:
    """Press Tab until the element is focused (keyboard only; fails if it never is)."""
    for _ in range(most):
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")
