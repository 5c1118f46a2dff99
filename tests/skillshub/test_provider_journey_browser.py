"""The whole provider journey in one headless Chromium session (issue 13, "Quality bar"):
sign in through /console/login → a micro-credential with three ESCO skills found as you type →
publish → the class list as a `;` CSV in Windows-1252 with a BOM shows the one bad row (then
start over) → the same 30 learners as an XLSX with German headers → match the columns → the
preview shows the bad row → confirm → progress to the end → recipients lists 29 for that
micro-credential → revoke one with a reason → the audit log shows every step → sign out, and
the console asks to sign in again.

The details of each part are checked in test_console_browser.py and
test_console_issuing_browser.py; this test checks that the parts join up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from badges.models import IssuedCredential
from catalogue.models import MicroCredential
from skillshub.demo import DEMO_PASSWORD
from tests.support.class_lists import class_list, class_list_csv
from tests.support.console_browser import (
    DEMO_ORG,
    DEMO_OWNER,
    axe_violations,
    create_micro_credential,
    sign_in,
)

pytestmark = pytest.mark.browser

TITLE = "Battery workshop safety"
REASON = "Did not complete the practical assessment"


def _upload(page: Any, mc_slug: str, file: Path) -> None:
    page.goto(f"/console/orgs/{DEMO_ORG}/issue/bulk")
    page.get_by_label("Micro-credential to award").select_option(mc_slug)
    page.get_by_label("Class list").set_input_files(str(file))
    page.get_by_role("button", name="Upload and check the rows").click()
    page.wait_for_url(re.compile(r".*/issue/bulk/[0-9a-f-]{36}\?.*"))


def _preview_shows_the_bad_row(page: Any) -> None:
    assert page.get_by_label("First name").input_value() == "0"
    assert page.get_by_label("Last name").input_value() == "1"
    assert page.get_by_label("E-mail address").input_value() == "2"
    summary = page.get_by_role("status").first.inner_text()
    assert "30 rows" in summary and "29 ready" in summary and "1 with a problem" in summary
    bad_rows = page.locator("table.bad-rows tbody tr")
    assert bad_rows.count() == 1
    assert "lerner17(at)example.org" in bad_rows.inner_text()
    assert "29 people will get the badge" in page.content()


def test_the_provider_journey_from_sign_in_to_sign_out(
    browser_page: Any, demo_catalogue: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    page = browser_page
    base = f"/console/orgs/{DEMO_ORG}"
    # Pages outside the navigation (the preview, the job, a credential's page) are checked with
    # axe-core here, on the way; test_console_browser checks the navigation's pages.
    inaccessible: dict[str, list[str]] = {}

    def check_accessibility(step: str) -> None:
        found = axe_violations(page)
        if found:
            inaccessible[step] = found

    page.goto("/console")
    page.wait_for_url(re.compile(r"/console/login"))
    assert not inaccessible, inaccessible
    sign_in(page, DEMO_OWNER, DEMO_PASSWORD)

    create_micro_credential(page, DEMO_ORG, demo_catalogue["course"], TITLE)
    with Session(engine) as fresh:
        mc = fresh.exec(select(MicroCredential).where(MicroCredential.title == TITLE)).one()
        mc_slug, mc_id = mc.slug, mc.id
    page.goto(f"/micro-credentials/{mc_slug}")
    assert "battery management systems" in page.content()

    # German Excel's "CSV" through the same form: the same verdicts; then start over.
    csv_file = tmp_path / "Kurs März.csv"
    csv_file.write_bytes(class_list_csv())
    _upload(page, mc_slug, csv_file)
    assert "semicolon-separated text, Windows-1252" in page.content()
    _preview_shows_the_bad_row(page)
    page.get_by_role("link", name="Start over with another file").click()
    page.wait_for_url(re.compile(r".*/issue/bulk$"))

    workbook = tmp_path / "Kurs März.xlsx"
    workbook.write_bytes(class_list())
    _upload(page, mc_slug, workbook)
    _preview_shows_the_bad_row(page)
    check_accessibility("preview")
    assert page.get_by_label("Micro-credential to award").input_value() == mc_slug
    page.get_by_role("button", name="Issue 29 badges").click()
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}.*"))
    page.wait_for_function(
        "() => document.querySelector('progress.job').value === 30", timeout=60_000
    )
    page.wait_for_selector("text=Done: 29 issued, 0 already had it, 1 failed.", timeout=60_000)
    check_accessibility("job")

    page.get_by_role("link", name="See recipients").click()
    page.wait_for_load_state()
    assert f"micro_credential={mc_slug}" in page.url
    assert "29 badges match." in page.get_by_role("status").first.inner_text()
    assert page.locator("tbody tr").count() == 29

    page.get_by_role("link", name="Lerner5 Müller").click()
    page.wait_for_load_state()
    check_accessibility("credential")
    page.get_by_label("Reason").last.fill(REASON)
    page.get_by_label("I understand that revocation cannot be undone.").check()
    page.get_by_role("button", name="Revoke the badge").click()
    page.wait_for_load_state()
    assert "The badge is revoked" in page.get_by_role("status").first.inner_text()
    assert f"Revoked by {DEMO_OWNER}: {REASON}" in page.inner_text("ol.history")
    check_accessibility("credential, revoked")
    with Session(engine) as fresh:
        issued = fresh.exec(
            select(IssuedCredential).where(IssuedCredential.micro_credential_id == mc_id)
        ).all()
        assert len(issued) == 29

    # The audit log, newest first: every step, by this owner. A bulk job records one
    # `bulk.start` (with its rows) rather than an event per badge.
    page.goto(f"{base}/audit")
    rows = page.locator("table.audit tbody tr")
    journey = [
        "credential.revoke",
        "bulk.start",
        "micro_credential.publish",
        "micro_credential.create",
        "user.sign_in",
    ]
    assert [
        rows.nth(i).locator("td").nth(2).locator("code").inner_text() for i in range(5)
    ] == journey
    for i in range(5):
        assert DEMO_OWNER in rows.nth(i).locator("td").nth(1).inner_text()
    bulk_start = rows.nth(1).locator("td").nth(4).inner_text()
    for detail in (mc_slug, "rows\n30", "bad rows\n1"):
        assert detail in bulk_start, (detail, bulk_start)
    assert REASON in rows.nth(0).inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login?notice=signed_out")
    page.goto("/console")
    page.wait_for_url(re.compile(r"/console/login"))
