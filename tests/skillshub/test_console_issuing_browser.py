"""The provider's issuing journey in headless Chromium: sign in → issue to a class from an
XLSX of 30 learners with German headers (one bad row) → match the columns → the preview
shows the bad row → confirm → progress → the recipients list shows 29 → revoke one with a
reason → sign out. Then the same list as a `;` CSV with a BOM in Windows-1252 through the
service: the same rows, and nobody issued twice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts import bulk_issue
from accounts.roles import Role
from badges.issuing import bulk
from badges.models import BulkJob, IssuedCredential
from tests.support.class_lists import class_list, class_list_csv
from tests.support.console import PASSWORD, add_user
from tests.support.present import present
from tests.support.world import World, make_world

pytestmark = pytest.mark.browser


def test_issue_a_class_from_a_spreadsheet_and_revoke_one(
    browser_page: Any, session: Session, master_key: str, engine: Engine, tmp_path: Path
) -> None:
    world: World = make_world(session, master_key)
    user = add_user(session, world.org, Role.issuer, email="kursleitung@voltacademy.example")
    page = browser_page
    slug = world.org.slug

    page.goto("/console/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console")

    page.get_by_role("link", name="Issue badges").click()
    page.get_by_role("link", name="upload a spreadsheet").click()
    page.wait_for_url(f"**/console/orgs/{slug}/issue/bulk")
    page.get_by_label("Micro-credential to award").select_option(world.mc.slug)
    workbook = tmp_path / "Kurs März.xlsx"
    workbook.write_bytes(class_list(30, bad_row=17))
    page.get_by_label("Class list").set_input_files(str(workbook))
    page.get_by_role("button", name="Upload and check the rows").click()

    page.wait_for_url(re.compile(r".*/issue/bulk/[0-9a-f-]{36}\?.*"))
    # The columns as matched, shown as selects the user can change.
    assert page.get_by_label("First name").input_value() == "0"
    assert page.get_by_label("Last name").input_value() == "1"
    assert page.get_by_label("E-mail address").input_value() == "2"
    assert page.get_by_label("Grade").input_value() == "3"
    page.get_by_label("Grade").select_option("")  # not this time
    page.get_by_role("button", name="Check the rows again").click()
    page.wait_for_load_state()
    assert page.get_by_label("Grade").input_value() == ""
    summary = page.get_by_role("status").first.inner_text()
    assert "30 rows" in summary and "29 ready" in summary and "1 with a problem" in summary
    bad_rows = page.locator("table.bad-rows tbody tr")
    assert bad_rows.count() == 1
    assert "lerner17(at)example.org" in bad_rows.inner_text()
    assert "E-mail address" in bad_rows.inner_text()
    assert "29 people will get the badge" in page.content()

    page.get_by_role("button", name="Issue 29 badges").click()
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}.*"))
    progress = page.locator("progress.job")
    page.wait_for_function(
        "() => document.querySelector('progress.job').value === 30", timeout=60_000
    )
    assert progress.get_attribute("max") == "30"
    page.wait_for_selector("text=Done: 29 issued, 0 already had it, 1 failed.", timeout=60_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the results (CSV)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert report.count("\n") == 31 and ",failed," in report

    page.get_by_role("link", name="See recipients").click()
    page.wait_for_load_state()
    assert "29 badges match." in page.get_by_role("status").first.inner_text()
    assert page.locator("tbody tr").count() == 29

    page.get_by_role("link", name="Lerner5 Müller").click()
    page.get_by_label("Reason").last.fill("Did not complete the practical assessment")
    page.get_by_label("I understand that revocation cannot be undone.").check()
    page.get_by_role("button", name="Revoke the badge").click()
    page.wait_for_load_state()
    assert "The badge is revoked" in page.get_by_role("status").first.inner_text()
    assert "Revoked by kursleitung@voltacademy.example: Did not complete" in page.inner_text(
        "ol.history"
    )
    page.get_by_role("link", name="Recipients", exact=True).first.click()
    page.get_by_label("State").select_option("revoked")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert page.locator("tbody tr").count() == 1

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login?notice=signed_out")
    page.goto(f"/console/orgs/{slug}/recipients")
    assert "/console/login" in page.url

    # The same list, as German Excel saves "CSV": through the service, the same verdicts.
    staged = bulk_issue.upload_as(
        session, user, world.org, filename="kurs.csv", data=class_list_csv(), max_bytes=2**20
    )
    preview = bulk_issue.preview_as(session, user, world.org, staged.uuid)
    assert preview.table.notes == ["semicolon-separated text, Windows-1252"]
    assert preview.checked is not None
    assert (len(preview.checked.good), [r.line for r in preview.checked.bad]) == (29, [18])
    assert present(preview.checked.good[0].recipient).name == "Lerner1 Müller"
    form = {f"map_{k}": "" if v is None else str(v) for k, v in preview.mapping.items()}
    started = bulk_issue.confirm_as(
        session, user, world.org, staged.uuid, form | {"micro_credential": world.mc.slug}
    )
    session.commit()
    job = bulk.run_job(engine, world.master_key, started.job.uuid, base_url="http://testserver")
    assert (job.issued, job.skipped, job.failed) == (0, 29, 1)
    with Session(engine) as fresh:
        assert len(fresh.exec(select(IssuedCredential)).all()) == 29
        assert len(fresh.exec(select(BulkJob)).all()) == 2


def test_issue_one_with_given_and_family_names_and_the_europass_consent(
    browser_page: Any, session: Session, master_key: str, engine: Engine
) -> None:
    """The issue-one form as a person fills it by its labels: the names apart, the consent
    box ticked; the preview says so, and the badge is stored with both."""
    from tests.support.console_browser import axe_violations, sign_in

    world: World = make_world(session, master_key)
    user = add_user(session, world.org, Role.issuer, email="kasse@voltacademy.example")
    session.commit()
    page = browser_page
    sign_in(page, user.email, PASSWORD)
    page.goto(f"/console/orgs/{world.org.slug}/issue")
    assert axe_violations(page) == []
    page.get_by_label("Micro-credential").select_option(world.mc.slug)
    page.get_by_label("Given name(s)").fill("Anna")
    page.get_by_label("Family name(s)").fill("Kovács")
    page.get_by_label("Learner's e-mail address").fill("anna@example.org")
    consent = page.get_by_label("The learner agreed to show this e-mail address in their Europass")
    assert not consent.is_checked()  # off unless asked
    consent.check()
    page.get_by_role("button", name="Preview the badge and the e-mail").click()
    page.wait_for_selector("text=Check, then issue")
    facts = page.locator("dl.facts").first.inner_text()
    assert "Anna Kovács" in facts and "Yes: the learner agreed" in facts
    page.get_by_role("button", name="Issue the badge and e-mail Anna Kovács").click()
    page.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}\?notice=issued"))
    with Session(engine) as fresh:
        [record] = fresh.exec(select(IssuedCredential)).all()
    assert (record.recipient_given_name, record.recipient_family_name) == ("Anna", "Kovács")
    assert record.recipient_name == "Anna Kovács" and record.recipient_contact_consent
