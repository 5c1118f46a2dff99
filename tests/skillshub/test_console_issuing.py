"""Issuing from the console through real HTTP on both databases: the roles that may, CSRF,
issue one (preview, once per form), issue many (upload, matching, preview, confirm, results)
and every hostile file refused next to the file field with nothing stored."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import AuditEvent
from accounts.roles import Role
from badges.issuing import bulk
from badges.models import BulkJob, BulkJobRow, IssuedCredential, StagedUpload
from skillshub import jobs
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.class_lists import class_list
from tests.support.console import HTML, ConsoleLogin
from tests.support.csrf import csrf_fields
from tests.support.present import present
from tests.support.world import World, make_world

Login = Callable[..., ConsoleLogin]


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _rows(engine: Engine, model: type) -> list:
    with Session(engine) as fresh:
        return list(fresh.exec(select(model)).all())


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def upload(login: ConsoleLogin, world: World, data: bytes, filename: str = "kurs.xlsx"):
    return login.client.post(
        f"/console/orgs/{world.org.slug}/issue/bulk",
        data={"micro_credential": world.mc.slug, **csrf_fields(login.client)},
        files={"file": (filename, data, "application/octet-stream")},
        follow_redirects=False,
    )


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(map_\w+)" value="([^"]*)">', page))


# --- roles and CSRF ---------------------------------------------------------------------


def test_a_viewer_reaches_no_issuing_form_get_or_post(
    console_as: Login, world: World, engine: Engine
) -> None:
    viewer = console_as(world.org, Role.viewer)
    issuer = console_as(world.org, Role.issuer)
    staged = upload(issuer, world, class_list(3, bad_row=None))
    assert staged.status_code == 303
    preview = staged.headers["location"].split("?")[0]
    base = f"/console/orgs/{world.org.slug}"
    for path in (f"{base}/issue", f"{base}/issue/bulk", preview):
        refused = viewer.client.get(path)
        assert refused.status_code == 403, path
        assert "needs the issuer role" in refused.text
    posts = {
        f"{base}/issue": {"micro_credential": world.mc.slug, "name": "A", "email": "a@b.org"},
        f"{base}/issue/bulk": {"micro_credential": world.mc.slug},
        f"{preview}/confirm": {"micro_credential": world.mc.slug, "map_name": "0"},
    }
    for path, data in posts.items():
        assert viewer.post(path, data).status_code == 403, path
    assert _rows(engine, IssuedCredential) == [] and _rows(engine, BulkJob) == []
    # The navigation offers a viewer no issuing.
    assert "Issue badges" not in viewer.client.get(f"{base}/recipients").text
    assert "Issue badges" in issuer.client.get(f"{base}/recipients").text


def test_another_organisations_member_is_refused(
    console_as: Login, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherco")
    stranger = console_as(other.org, Role.owner)
    answer = stranger.client.get(f"/console/orgs/{world.org.slug}/issue")
    assert answer.status_code == 403


def test_issuing_forms_need_the_csrf_token(console_as: Login, world: World, engine: Engine) -> None:
    issuer = console_as(world.org, Role.issuer)
    base = f"/console/orgs/{world.org.slug}"
    data = {"micro_credential": world.mc.slug, "name": "Ada", "email": "ada@example.org"}
    for path in (f"{base}/issue", f"{base}/issue/bulk"):
        bare = issuer.client.post(path, data=data | {"step": "issue"}, follow_redirects=False)
        assert bare.status_code == 403, path
        forged = issuer.client.post(
            path,
            data=data | {"step": "issue", **csrf_fields(issuer.client)},
            headers={"origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert forged.status_code == 403, path
    assert _rows(engine, IssuedCredential) == []


# --- issue one --------------------------------------------------------------------------


def test_issue_one_previews_then_issues_once(
    console_as: Login, world: World, engine: Engine, settings: Settings
) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/issue"
    form = issuer.client.get(path)
    assert form.status_code == 200 and world.mc.title in form.text
    key = present(re.search(r'name="idempotency_key" value="([^"]+)"', form.text))[1]
    data = {
        "micro_credential": world.mc.slug,
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "grade": "A",
        "evidence_narrative": "Rebuilt a battery pack\nunder supervision.",
        "idempotency_key": key,
    }
    preview = issuer.post(path, data | {"step": "preview"})
    assert preview.status_code == 200
    assert "Nothing is issued yet" in preview.text
    assert "&#34;OpenBadgeCredential&#34;" in preview.text  # the JSON to be signed
    assert "Subject</dt><dd>Your badge: " in preview.text and "Claim it here" in preview.text
    assert _rows(engine, IssuedCredential) == []  # a preview stores nothing

    issued = issuer.post(path, data | {"step": "issue"})
    assert issued.status_code == 303
    target = issued.headers["location"]
    assert target.endswith("?notice=issued")
    again = issuer.post(path, data | {"step": "issue"})  # a double click, a reload
    assert again.status_code == 303
    assert again.headers["location"] == target.replace("notice=issued", "notice=issued_before")
    [record] = _rows(engine, IssuedCredential)
    assert record.grade == "A" and record.evidence_narrative.startswith("Rebuilt")
    assert record.uuid in target
    [event] = _events(engine, "credential.issue")
    assert event.actor_label == issuer.user.email and event.subject_id == record.uuid
    page = issuer.client.get(target)
    assert "The badge is issued" in page.text and "Ada Lovelace" in page.text
    # The same form with other details is refused, pointing at what it issued.
    changed = issuer.post(path, data | {"step": "issue", "email": "bob@example.org"})
    assert changed.status_code == 409
    assert "This form already issued a badge" in changed.text and record.uuid in changed.text
    assert len(_rows(engine, IssuedCredential)) == 1
    assert len(list((settings.data_dir / "outbox").glob("*.eml"))) == 1


def test_issue_one_with_given_and_family_names(
    console_as: Login, world: World, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/issue"
    form = issuer.client.get(path)
    assert 'id="given_name"' in form.text and 'id="family_name"' in form.text
    data = {
        "micro_credential": world.mc.slug,
        "given_name": "Anna",
        "family_name": "Kovács",
        "email": "anna@example.org",
        "contact_consent": "on",
        "idempotency_key": "k-names",
    }
    preview = issuer.post(path, data | {"step": "preview"})
    assert preview.status_code == 200, preview.text
    assert "Awarded to</dt><dd>Anna Kovács</dd>" in preview.text
    assert 'name="family_name" value="Kovács"' in preview.text  # carried to the issue step
    assert "E-mail in Europass</dt><dd>Yes" in preview.text
    assert '<input type="hidden" name="contact_consent" value="on">' in preview.text
    issued = issuer.post(path, data | {"step": "issue"})
    assert issued.status_code == 303
    [record] = _rows(engine, IssuedCredential)
    assert (record.recipient_name, record.recipient_given_name, record.recipient_family_name) == (
        "Anna Kovács",
        "Anna",
        "Kovács",
    )
    assert record.recipient_contact_consent
    nameless = issuer.post(path, data | {"given_name": " ", "family_name": "", "step": "preview"})
    assert nameless.status_code == 422 and 'id="name-error"' in nameless.text


def test_issue_one_without_the_consent_box_keeps_the_e_mail_out_of_europass(
    console_as: Login, world: World, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/issue"
    data = {"micro_credential": world.mc.slug, "name": "Bo", "email": "bo@example.org"}
    preview = issuer.post(path, data | {"step": "preview", "idempotency_key": "k-consent"})
    assert "E-mail in Europass</dt><dd>No" in preview.text
    assert 'name="contact_consent"' not in preview.text.split("<h1>")[1].split("</section>")[1]
    issuer.post(path, data | {"step": "issue", "idempotency_key": "k-consent"})
    [record] = _rows(engine, IssuedCredential)
    assert not record.recipient_contact_consent


def test_issue_one_shows_every_mistake_next_to_its_field(
    console_as: Login, world: World, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/issue"
    data = {"micro_credential": world.mc.slug, "name": "Ada", "email": "ada(at)example.org"}
    refused = issuer.post(path, data | {"step": "preview"})
    assert refused.status_code == 422
    assert 'id="email-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="ada(at)example.org"' in refused.text  # what was typed is kept
    no_mc = issuer.post(path, {"name": "Ada", "email": "ada@example.org", "step": "issue"})
    assert no_mc.status_code == 422 and 'id="micro_credential-error"' in no_mc.text
    bad_url = issuer.post(
        path, data | {"email": "a@example.org", "evidence_url": "ftp://x", "step": "issue"}
    )
    assert bad_url.status_code == 422 and "absolute http(s) URL" in bad_url.text
    assert _rows(engine, IssuedCredential) == []


# --- issue many -------------------------------------------------------------------------


def test_issue_many_from_a_german_xlsx(
    console_as: Login, world: World, engine: Engine, settings: Settings
) -> None:
    issuer = console_as(world.org, Role.issuer)
    staged = upload(issuer, world, class_list(30))
    assert staged.status_code == 303, staged.text
    preview = issuer.client.get(staged.headers["location"])
    assert preview.status_code == 200
    text = preview.text
    assert "sheet &#39;Kurs März&#39;" in text
    assert "<strong>30</strong> rows" in text and "<strong>29</strong> ready" in text
    assert "<strong>1</strong> with a problem" in text
    assert "<td>18</td><td>Lerner17 Müller</td>" in text  # row 18 of the sheet
    assert "E-mail address: " in text
    assert "29 people will get the badge" in text
    mapping = _hidden(text)
    assert (mapping["map_first_name"], mapping["map_last_name"], mapping["map_email"]) == (
        "0",
        "1",
        "2",
    )
    assert _rows(engine, BulkJob) == [] and _rows(engine, IssuedCredential) == []

    action = staged.headers["location"].split("?")[0] + "/confirm"
    confirmed = issuer.post(action, mapping | {"micro_credential": world.mc.slug})
    assert confirmed.status_code == 303
    job_page = confirmed.headers["location"]
    assert "notice=job_started" in job_page
    again = issuer.post(action, mapping | {"micro_credential": world.mc.slug})
    assert again.headers["location"] == job_page.replace("job_started", "job_seen")
    [job] = _rows(engine, BulkJob)
    assert (job.status, job.total, job.issued, job.failed) == ("done", 30, 29, 1)
    assert len(_rows(engine, IssuedCredential)) == 29
    [staged_row] = _rows(engine, StagedUpload)
    assert staged_row.data is None and staged_row.job_uuid == job.uuid  # the file is gone
    [event] = _events(engine, "bulk.start")
    assert event.details == {
        "micro_credential": world.mc.slug, "issuer": world.issuer.slug, "rows": 30,
        "bad_rows": 1, "source": "kurs.xlsx",
    }  # fmt: skip

    page = issuer.client.get(job_page)
    assert "Done: 29 issued, 0 already had it, 1 failed." in page.text
    assert 'http-equiv="refresh"' not in page.text  # finished: no more reloading
    progress = issuer.client.get(job_page.split("?")[0] + "/progress")
    assert progress.json() | {"id": None} == {
        "id": None, "status": "done", "total": 30, "issued": 29, "duplicates": 0,
        "failed": 1, "pending": 0, "done": 30,
    }  # fmt: skip
    results = issuer.client.get(job_page.split("?")[0] + "/results.csv")
    assert results.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(results.content.decode("utf-8-sig"))))
    assert len(rows) == 30
    assert rows[16]["status"] == "failed" and rows[16]["email"] == "lerner17(at)example.org"
    assert {r["status"] for r in rows[:16]} == {"issued"}
    assert len(list((settings.data_dir / "outbox").glob("*.eml"))) == 29

    # The same list once more: nobody is issued twice.
    second = upload(issuer, world, class_list(30))
    preview = issuer.client.get(second.headers["location"])
    action = second.headers["location"].split("?")[0] + "/confirm"
    issuer.post(action, _hidden(preview.text) | {"micro_credential": world.mc.slug})
    newest = max(_rows(engine, BulkJob), key=lambda j: j.id)
    assert (newest.issued, newest.skipped, newest.failed) == (0, 29, 1)
    assert len(_rows(engine, IssuedCredential)) == 29


def test_a_semicolon_windows_1252_csv_with_a_bom(
    console_as: Login, world: World, engine: Engine
) -> None:
    lines = ["Vorname;Nachname;E-Mail"] + [f"Jürgen{n};Weiß;j{n}@example.org" for n in range(3)]
    data = b"\xef\xbb\xbf" + "\r\n".join(lines).encode("cp1252")
    issuer = console_as(world.org, Role.issuer)
    staged = upload(issuer, world, data, "kurs.csv")
    preview = issuer.client.get(staged.headers["location"])
    assert "semicolon-separated text, Windows-1252" in preview.text
    assert "<strong>3</strong> ready" in preview.text
    action = staged.headers["location"].split("?")[0] + "/confirm"
    issuer.post(action, _hidden(preview.text) | {"micro_credential": world.mc.slug})
    names = sorted(r.recipient_name for r in _rows(engine, IssuedCredential))
    assert names == ["Jürgen0 Weiß", "Jürgen1 Weiß", "Jürgen2 Weiß"]
    parts = sorted(
        (r.recipient_given_name, r.recipient_family_name) for r in _rows(engine, IssuedCredential)
    )
    assert parts == [("Jürgen0", "Weiß"), ("Jürgen1", "Weiß"), ("Jürgen2", "Weiß")]


def test_the_mapping_can_be_changed_and_must_name_an_email(console_as: Login, world: World) -> None:
    data = b"Kurs;Wer;Adresse\nHV;Ada Lovelace;ada@example.org\n"
    issuer = console_as(world.org, Role.issuer)
    staged = upload(issuer, world, data, "x.csv")
    where = staged.headers["location"]
    guessed = issuer.client.get(where)
    assert "Choose the column with the e-mail addresses." in guessed.text
    assert "29 people" not in guessed.text and "/confirm" not in guessed.text
    chosen = issuer.client.get(where + "&map_name=1&map_email=2")
    assert "<strong>1</strong> ready" in chosen.text
    twice = issuer.client.get(where + "&map_name=2&map_email=2")
    assert "Each column can be chosen once only." in twice.text


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (class_list(3)[:900], "kurs.xlsx", "incomplete or damaged"),
        (b"", "kurs.csv", "Choose a file"),
        (b"Name;E-Mail\n", "kurs.csv", "no learners below the header row"),
        (b'Name,E-Mail\n"Ada,ada@example.org\n', "kurs.csv", "ends inside a quoted value"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "kurs.xls", "old Excel file"),
    ],
)
def test_hostile_uploads_are_refused_at_the_file_field(
    console_as: Login, world: World, engine: Engine, data: bytes, filename: str, message: str
) -> None:
    issuer = console_as(world.org, Role.issuer)
    refused = upload(issuer, world, data, filename)
    assert refused.status_code == 422
    assert message in refused.text
    assert 'id="file-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert _rows(engine, StagedUpload) == []


def test_merged_cells_and_too_many_rows_are_refused(
    console_as: Login, world: World, engine: Engine
) -> None:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.append(["Name", "E-Mail"])
    sheet.append(["Ada", "ada@example.org"])
    sheet.merge_cells("A3:B3")
    out = io.BytesIO()
    book.save(out)
    issuer = console_as(world.org, Role.issuer)
    merged = upload(issuer, world, out.getvalue())
    assert merged.status_code == 422 and "merged cells (A3:B3)" in merged.text
    many = b"Name;E-Mail\n" + b"".join(b"Ada;a%d@example.org\n" % n for n in range(100_001))
    refused = upload(issuer, world, many, "big.csv")
    assert refused.status_code == 422
    assert "has 100,001 rows of learners; at most 100,000" in refused.text
    assert _rows(engine, StagedUpload) == []


def test_an_oversized_upload_is_refused_at_the_file_field(
    settings: Settings, engine: Engine, world: World, console_as: Login
) -> None:
    small = settings.model_copy(
        update={"console_upload_max_bytes": 2048, "max_upload_bytes": 6 * 1024}
    )
    issuer = console_as(world.org, Role.issuer)
    with TestClient(create_app(small, engine=engine), headers=HTML) as browser:
        browser.cookies = issuer.client.cookies
        login = ConsoleLogin(browser, issuer.user, world.org, Role.issuer)
        form = browser.get(f"/console/orgs/{world.org.slug}/issue/bulk")
        assert "At most 2 KB and 100,000 rows" in form.text
        refused = upload(login, world, class_list(40)[:5000])
        # Past the app's cap on any request body: refused before it is read, as a page.
        too_big = upload(login, world, class_list(300))
    assert refused.status_code == 422
    assert "The file is larger than 2 KB, the most that can be uploaded" in refused.text
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith("text/html")
    assert "The file is too large" in too_big.text and "Nothing was stored" in too_big.text
    assert _rows(engine, StagedUpload) == []


def test_formulas_in_names_do_not_reach_the_results_csv_as_formulas(
    console_as: Login, world: World, engine: Engine
) -> None:
    data = '\ufeffName;E-Mail\n=HYPERLINK("http://evil.example");x(at)example.org\n+Ada;ada@example.org\n'
    issuer = console_as(world.org, Role.issuer)
    staged = upload(issuer, world, data.encode(), "x.csv")
    preview = issuer.client.get(staged.headers["location"])
    action = staged.headers["location"].split("?")[0] + "/confirm"
    job = issuer.post(action, _hidden(preview.text) | {"micro_credential": world.mc.slug})
    results = issuer.client.get(job.headers["location"].split("?")[0] + "/results.csv")
    cells = list(csv.reader(io.StringIO(results.content.decode("utf-8-sig"))))
    assert cells[1][1] == '\'=HYPERLINK("http://evil.example")'
    assert cells[2][1] == "'+Ada"


def test_an_upload_of_another_organisation_is_not_found(
    console_as: Login, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherco")
    mine = console_as(world.org, Role.issuer)
    staged = upload(mine, world, class_list(2, bad_row=None))
    upload_id = staged.headers["location"].split("/")[-1].split("?")[0]
    theirs = console_as(other.org, Role.issuer)
    answer = theirs.client.get(f"/console/orgs/{other.org.slug}/issue/bulk/{upload_id}")
    assert answer.status_code == 404
    assert "expired or does not exist" in answer.text


def test_confirmed_job_rows_keep_bad_rows_values(
    console_as: Login, world: World, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    staged = upload(issuer, world, class_list(3, bad_row=2))
    preview = issuer.client.get(staged.headers["location"])
    action = staged.headers["location"].split("?")[0] + "/confirm"
    issuer.post(action, _hidden(preview.text) | {"micro_credential": world.mc.slug})
    failed = [r for r in _rows(engine, BulkJobRow) if r.status == "failed"]
    assert [(r.line, '"email": "lerner2(at)example.org"' in r.payload) for r in failed] == [
        (3, True)
    ]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_confirmed_upload_commits_its_job_with_its_chunk_task(
    console_as: Login, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    # The run after the response holds back: what is queued is the confirm's transaction's.
    monkeypatch.setattr(jobs.Jobs, "run", lambda _self, job_uuid, **_: started.append(job_uuid))
    issuer = console_as(world.org, Role.issuer)
    staged = upload(issuer, world, class_list(3))
    preview = issuer.client.get(staged.headers["location"])
    action = staged.headers["location"].split("?")[0] + "/confirm"
    for _ in range(2):  # the second confirm finds the job: nothing more is queued
        issuer.post(action, _hidden(preview.text) | {"micro_credential": world.mc.slug})
    [job] = _rows(engine, BulkJob)
    assert started == [job.uuid]
    with Session(engine) as fresh:
        chunks = bulk.chunks(fresh, job)
        queued = fresh.execute(
            text("SELECT queueing_lock, status FROM procrastinate_jobs WHERE task_name = :t"),
            {"t": jobs.CHUNK_TASK},
        ).all()
    assert [tuple(row) for row in queued] == [(jobs.chunk_lock(job.uuid, chunks[0]), "todo")]
