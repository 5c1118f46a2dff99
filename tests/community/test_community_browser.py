"""Done-when of issue 20, in Chromium against a live server with SKILLSHUB_REQUIRE_REVIEW: a
provider submits a micro-credential, an operator requests a change, the provider fixes it,
the operator approves, the alliance endorses it, a badge issued afterwards carries the
endorsement and the verify page shows it checked; revoked, the next verification says so;
the badge's holder reviews the course and the review appears on the course page."""

from __future__ import annotations

import email
import email.policy
import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from badges.models import Endorsement, IssuedCredential
from catalogue.models import MicroCredential
from skillshub.demo import ALLIANCE, DEMO_OPERATOR_EMAIL, DEMO_PASSWORD
from skillshub.settings import Settings
from tests.support.console_browser import (
    DEMO_ORG,
    DEMO_OWNER,
    THREE_SKILLS,
    axe_violations,
    sign_in,
)
from tests.support.present import present

pytestmark = pytest.mark.browser
TITLE = "Battery pack safety check"
FIXED = "Battery pack safety check (IEC 62660)"


@pytest.fixture
def live_app(settings: Settings, engine: Engine) -> FastAPI:
    from skillshub.web.app import create_app

    return create_app(settings.model_copy(update={"require_review": True}), engine=engine)


def _new_draft(page: Any, course: str) -> None:
    page.goto(f"/console/orgs/{DEMO_ORG}/catalogue")
    page.click("text=New micro-credential")
    page.fill("[name=title]", TITLE)
    page.select_option("[name=course]", course)
    page.fill("[name='learning_outcomes.1.text']", "Checks a battery pack before work.")
    words, label = THREE_SKILLS[0]
    page.type("[name='learning_outcomes.1.q']", words, delay=20)
    page.locator("[data-outcome='1'] [role=option]", has_text=re.compile(f"^{label}$")).click()
    page.wait_for_selector(f"[data-chosen] label:has-text('{label}')")
    page.select_option("[name=eqf_level]", "4")
    page.fill("[name=workload_hours]", "8")
    page.select_option("[name=mode]", "presential")
    page.select_option("[name=assessment_type]", "practical-assessment")
    page.select_option("[name=quality_assurance]", "institutional-quality-assurance")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"notice=mc_saved"))


def _row(page: Any, title: str) -> Any:
    return page.locator("tr", has_text=title)


def _open_queue_item(page: Any, title: str) -> None:
    page.goto("/console/review")
    page.get_by_role("link", name=title).click()
    page.wait_for_url(re.compile(r"/console/review/\d+$"))


def _verify(page: Any, credential: str) -> str:
    page.goto("/verify")
    page.fill("#credential", credential)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("#verdict")
    return page.inner_text("main")


def _claim_link(settings: Settings) -> str:
    [message] = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        for f in sorted((settings.data_dir / "outbox").glob("*.eml"))
    ]
    text = present(message.get_body(("plain",))).get_content()
    [link] = re.findall(r"/credentials/\S+/claim\?token=\S+", text)
    return link


def test_submit_review_approve_endorse_issue_verify_revoke_and_graduate_review(
    chromium: Any,
    live_server: str,
    demo_catalogue: dict[str, str],
    engine: Engine,
    settings: Settings,
) -> None:
    contexts = [chromium.new_context(base_url=live_server) for _ in range(3)]
    provider, operator, learner = (c.new_page() for c in contexts)
    inaccessible: dict[str, list[str]] = {}

    def check(page: Any, step: str) -> None:
        found = axe_violations(page)
        if found:
            inaccessible[step] = found

    try:
        # The provider's draft goes to review: no publishing on this hub.
        sign_in(provider, DEMO_OWNER, DEMO_PASSWORD)
        _new_draft(provider, demo_catalogue["course"])
        row = _row(provider, TITLE)
        assert row.locator("button", has_text="Publish").count() == 0
        row.locator("button", has_text="Submit for review").click()
        provider.wait_for_url(re.compile(r"/console/review/\d+\?notice=submitted"))
        assert "submitted" in provider.inner_text("#review-state")
        assert provider.get_by_role("button", name="Approve and publish").count() == 0

        # The operator asks for a change.
        sign_in(operator, DEMO_OPERATOR_EMAIL, DEMO_PASSWORD)
        operator.goto("/console/review")
        check(operator, "review queue")
        _open_queue_item(operator, TITLE)
        assert "Everything (nothing of it was approved before)" in operator.content()
        check(operator, "submission")
        operator.fill("#comment", "Name the standard the check follows in the title.")
        operator.get_by_role("button", name="Request changes").click()
        operator.wait_for_url(re.compile(r"notice=changes_requested"))

        # The provider reads the comment, fixes the title, submits again.
        provider.goto(f"/console/orgs/{DEMO_ORG}/catalogue")
        row = _row(provider, TITLE)
        assert row.locator(".state").inner_text() == "changes requested"
        row.get_by_role("link", name=re.compile("^Review")).click()
        assert "Name the standard the check follows" in provider.inner_text("#conversation ~ ol")
        provider.goto(f"/console/orgs/{DEMO_ORG}/catalogue")
        _row(provider, TITLE).get_by_role("link", name=re.compile("^Edit")).click()
        provider.fill("[name=title]", FIXED)
        provider.click("button[value=save]")
        provider.wait_for_url(re.compile(r"notice=mc_updated"))
        _row(provider, FIXED).locator("button", has_text="Submit for review").click()
        provider.wait_for_url(re.compile(r"notice=submitted"))

        # The operator approves: published.
        _open_queue_item(operator, FIXED)
        operator.get_by_role("button", name="Approve and publish").click()
        operator.wait_for_url(re.compile(r"notice=approved"))
        with Session(engine) as fresh:
            mc = fresh.exec(select(MicroCredential).where(MicroCredential.title == FIXED)).one()
            slug, mc_id = mc.slug, mc.id
            assert mc.state == "published"

        # The alliance endorses it in its console.
        operator.goto(f"/console/orgs/{ALLIANCE['slug']}/endorsements")
        check(operator, "endorsements")
        operator.select_option("#micro_credential", slug)
        operator.fill("#comment", "Meets the alliance's battery-safety profile.")
        operator.get_by_role("button", name="Endorse").click()
        operator.wait_for_url(re.compile(r"notice=endorsed"))

        # A badge issued afterwards carries it; the verify page shows it checked.
        provider.goto(f"/console/orgs/{DEMO_ORG}/issue")
        provider.select_option("#micro_credential", slug)
        provider.fill("#name", "Ada Lovelace")
        provider.fill("#email", "ada@example.org")
        provider.get_by_role("button", name="Preview the badge and the e-mail").click()
        provider.get_by_role("button", name=re.compile("^Issue the badge")).click()
        provider.wait_for_load_state()
        with Session(engine) as fresh:
            record = fresh.exec(
                select(IssuedCredential).where(IssuedCredential.micro_credential_id == mc_id)
            ).one()
            signed = record.signed
        achievement = json.loads(signed)["credentialSubject"]["achievement"]
        [carried] = achievement["endorsement"]
        assert carried["credentialSubject"]["endorsementComment"].startswith("Meets the")
        report = _verify(learner, signed)
        assert f"Endorsed by {ALLIANCE['legal_name']} (checked)" in report
        check(learner, "verify report with an endorsement")
        learner.goto(f"/micro-credentials/{slug}")
        assert "(checked)" in learner.inner_text("#endorsements-heading ~ ul")

        # Revoked by the alliance: the next verification says so.
        operator.goto(f"/console/orgs/{ALLIANCE['slug']}/endorsements")
        operator.get_by_role("button", name=re.compile("^Revoke")).click()
        operator.wait_for_url(re.compile(r"notice=endorsement_revoked"))
        with Session(engine) as fresh:
            assert fresh.exec(select(Endorsement)).one().revoked_at is not None
        report = _verify(learner, signed)
        assert f"Endorsed by {ALLIANCE['legal_name']}: does not verify" in report
        assert "(checked)" not in report

        # The holder claims the badge and reviews the course; it shows on the course page.
        learner.goto(_claim_link(settings))
        learner.get_by_role("button", name="Claim my badge").click()
        learner.wait_for_url(re.compile(r"/manage$"))
        learner.get_by_role("link", name=re.compile("Rate it")).click()
        check(learner, "review form")
        learner.get_by_label("4 stars").check()
        learner.fill("#text", "Short and practical; the checklist is gold.")
        learner.get_by_role("button", name="Publish my review").click()
        learner.wait_for_url(re.compile(r"saved=1"))
        learner.goto(f"/courses/{demo_catalogue['course']}")
        reviews = learner.inner_text("#reviews-heading ~ ul")
        assert "the checklist is gold" in reviews and "from a verified graduate" in reviews
        assert "Ada Lovelace" not in reviews
        assert "4.0 out of 5" in learner.inner_text("p.rating")
        check(learner, "course page with a review")
    finally:
        for context in contexts:
            context.close()
    assert not inaccessible, inaccessible


def test_the_operators_pages_pass_axe_and_fit_360_px(
    browser_page: Any, demo_catalogue: dict[str, str]
) -> None:
    """The hub's pages (operators only, so not in test_console_browser's owner tour)."""
    from skillshub.web.console import nav

    page = browser_page
    sign_in(page, DEMO_OPERATOR_EMAIL, DEMO_PASSWORD)
    paths = [item.path for item in nav.items() if item.operators_only]
    page.goto("/console/hub/job-roles")
    first_role = page.locator("main li a").first.get_attribute("href")
    paths += ["/console/hub/job-roles", first_role]
    problems: list[str] = []
    for path in paths:
        for width in (1280, 360):
            page.set_viewport_size({"width": width, "height": 900})
            answer = page.goto(path)
            assert answer is not None and answer.status == 200, (path, answer and answer.status)
            if width == 1280:
                problems += [f"{path}: {v}" for v in axe_violations(page)]
            elif page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"):
                widest = page.evaluate(
                    "() => [...document.querySelectorAll('body *')]"
                    ".filter(e => e.getBoundingClientRect().right > window.innerWidth)"
                    ".map(e => e.tagName + '.' + e.className).slice(0, 5).join(', ')"
                )
                problems.append(f"{path}: scrolls sideways at 360 px ({widest})")
    assert len(paths) >= 4, paths
    assert not problems, "\n".join(problems)
