"""The provider console in English and German, through real HTTP on both databases: the
language from Accept-Language, from the switch (`?lang=`, remembered in a cookie), the switch
itself in the header, German headings with no English left, German errors next to fields,
German notices after an action, German words for a class list's problems, dates and numbers
in the reader's form, and a catalogue that translates every text the pages use."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from accounts.roles import Role
from badges import issuing, status
from badges.models import IssuedCredential
from tests.support.console import HTML, ConsoleLogin, add_user, post_form
from tests.support.csrf import csrf_fields
from tests.support.world import World, make_world

Login = Callable[..., ConsoleLogin]
ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "skillshub/web/locales"
GERMAN = {"accept-language": "de-DE,de;q=0.9,en;q=0.5"}

# Each console page (a path under the organisation, or absolute) with its main English words
# and the German ones that replace them.
PAGES: dict[str, tuple[list[str], list[str]]] = {
    "/console": (
        ["Overview", "Jobs in progress", "Recent activity", "Issued in"],
        ["Übersicht", "Laufende Aufträge", "Letzte Aktivitäten", "Ausgestellt im"],
    ),
    "{org}/catalogue": (
        ["New micro-credential", "New course", "Micro-credentials</h2>", "Courses</h2>"],
        ["Neues Microcredential", "Neuer Kurs", "Microcredentials</h2>", "Kurse</h2>"],
    ),
    "{org}/micro-credentials/new": (
        ["What it is", "Learning outcomes", "Level and workload", "Save as draft"],
        ["Was es ist", "Lernergebnisse", "Niveau und Arbeitsaufwand", "Als Entwurf speichern"],
    ),
    "{org}/issue": (
        ["Issue a badge</h1>", "Learner's name", "Preview the badge and the e-mail"],
        ["Badge ausstellen</h1>", "Name der lernenden Person", "Vorschau von Badge und E-Mail"],
    ),
    "{org}/issue/bulk": (
        ["Issue to a class", "Class list", "Upload and check the rows"],
        ["An eine Klasse ausstellen", "Klassenliste", "Hochladen und Zeilen prüfen"],
    ),
    "{org}/recipients": (
        ["Recipients</h1>", "Name or e-mail", "Issued from"],
        ["Empfänger</h1>", "Name oder E-Mail", "Ausgestellt ab"],
    ),
    "{org}/audit": (
        ["Audit log</h1>", "Kinds of change", "Download CSV"],
        ["Protokoll</h1>", "Arten von Änderungen", "CSV herunterladen"],
    ),
    "{org}/organisation": (
        ["Members</h2>", "Invite a member", "Send the invitation"],
        ["Mitglieder</h2>", "Mitglied einladen", "Einladung senden"],
    ),
    "{org}/organisation/tokens": (
        ["API tokens</h2>", "Create a token", "Stops working after"],
        ["API-Tokens</h2>", "Token erstellen", "Funktioniert nicht mehr nach"],
    ),
    "/console/sessions": (
        ["Your sessions</h1>", "Sign out everywhere</h2>"],
        ["Ihre Sitzungen</h1>", "Überall abmelden</h2>"],
    ),
    "/console/security": (
        ["Sign-in security</h1>", "Authenticator app</h2>", "Set up an authenticator app"],
        ["Anmeldesicherheit</h1>", "Authenticator-App</h2>", "Authenticator-App einrichten"],
    ),
}
# The header's own words: the navigation and the sign-out button.
HEADER = (["Sign out", ">Catalogue</a>", ">Recipients</a>"], ["Abmelden", ">Katalog</a>"])


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _path(template: str, world: World) -> str:
    return template.replace("{org}", f"/console/orgs/{world.org.slug}")


def _issue(session: Session, world: World) -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada Lovelace", "ada@example.org"),
        base_url="http://testserver",
        status_purposes=status.PURPOSES,
    )
    session.commit()
    return record


# --- the language of a page ------------------------------------------------------------------


def test_every_console_page_is_german_from_accept_language(console_as: Login, world: World) -> None:
    owner = console_as(world.org, Role.owner)
    for template, (english, german) in PAGES.items():
        path = _path(template, world)
        page = owner.client.get(path, headers={**HTML, **GERMAN})
        assert page.status_code == 200, path
        assert '<html lang="de">' in page.text, path
        for words in german + HEADER[1]:
            assert words in page.text, (path, words)
        for words in english + HEADER[0]:
            assert words not in page.text, (path, words)  # no English heading left
        assert "Accept-Language" in page.headers["vary"]
        # The same page without the header is English, as the existing tests expect.
        plain = owner.client.get(path)
        assert '<html lang="en">' in plain.text and english[0] in plain.text, path


def test_the_switch_in_the_header_chooses_and_remembers_the_language(
    console_as: Login, world: World
) -> None:
    owner = console_as(world.org, Role.owner)
    recipients = f"/console/orgs/{world.org.slug}/recipients"
    english = owner.client.get(recipients, params={"q": "Ada"})
    switch = re.search(
        r'<ul class="languages" aria-label="Language">(.*?)</ul>', english.text, re.S
    )
    assert switch is not None, "the language switch is in the console's header"
    # A link (keyboard-usable, named by its text) to this very page in German; English is
    # marked as the current language.
    assert (
        f'<a href="{recipients}?q=Ada&amp;lang=de" hreflang="de" lang="de" rel="alternate">'
        "Deutsch</a>"
    ) in switch.group(1)
    assert '<span aria-current="true" lang="en">English</span>' in switch.group(1)

    german = owner.client.get(recipients, params={"q": "Ada", "lang": "de"})
    assert '<html lang="de">' in german.text and "Empfänger</h1>" in german.text
    assert "shub_lang=de" in german.headers["set-cookie"]
    assert '<ul class="languages" aria-label="Sprache">' in german.text
    assert f'href="{recipients}?q=Ada&amp;lang=en"' in german.text
    # Remembered: the next page is German without asking, whatever the browser says.
    later = owner.client.get("/console", headers={**HTML, "accept-language": "en"})
    assert '<html lang="de">' in later.text and "Übersicht</h1>" in later.text
    back = owner.client.get("/console", params={"lang": "en"})
    assert '<html lang="en">' in back.text and "Overview</h1>" in back.text


def test_signing_in_in_german_with_its_error(
    client: TestClient, world: World, session: Session
) -> None:
    user = add_user(session, world.org, Role.issuer, email="ada@example.org")
    browser = TestClient(client.app, headers={**HTML, **GERMAN})
    form = browser.get("/console/login")
    assert "Bei der Konsole anmelden" in form.text and "Passwort vergessen?" in form.text
    assert "Sign in to the console" not in form.text
    wrong = post_form(
        browser, "/console/login", {"email": user.email, "password": "not the password"},
        headers={**HTML, **GERMAN},
    )  # fmt: skip
    assert "E-Mail-Adresse oder Passwort ist falsch" in wrong.text
    assert "E-mail or password is wrong" not in wrong.text


# --- what the console's Python code says -----------------------------------------------------


def test_a_german_form_error_and_a_german_notice_after_revoking(
    console_as: Login, world: World, session: Session
) -> None:
    record = _issue(session, world)
    issuer = console_as(world.org, Role.issuer)
    issuer.client.headers.update(GERMAN)
    path = f"/console/orgs/{world.org.slug}/credentials/{record.uuid}"
    page = issuer.client.get(path)
    assert "Badge widerrufen" in page.text and "Revoke the badge" not in page.text
    # The issue date in the German form: "05.12.2026, 14:05 UTC".
    assert re.search(r"<dd>\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC</dd>", page.text), page.text

    unconfirmed = issuer.post(path + "/revoke", {"reason": "irrtümlich ausgestellt"})
    assert unconfirmed.status_code == 422
    assert "Setzen Sie zur Bestätigung das Häkchen: Ein Widerruf ist endgültig." in unconfirmed.text
    assert "Tick the box to confirm" not in unconfirmed.text
    assert 'id="revoke_confirm-error"' in unconfirmed.text  # still next to its field

    done = issuer.post(path + "/revoke", {"reason": "irrtümlich ausgestellt", "confirm": "yes"})
    assert done.status_code == 303
    after = issuer.client.get(done.headers["location"])
    notice = re.search(r'<p class="status ok" role="status">(.*?)</p>', after.text)
    assert notice is not None
    assert notice.group(1).startswith("Das Badge ist widerrufen.")
    # Its history in German too, with the service's word for the change translated.
    assert "<strong>Widerrufen</strong> von " in after.text


def test_a_confirmation_worded_in_python_in_german(
    console_as: Login, world: World, session: Session
) -> None:
    owner = console_as(world.org, Role.owner)
    member = add_user(session, world.org, Role.issuer, email="grace@example.org")
    path = f"/console/orgs/{world.org.slug}/organisation/members/{member.id}/remove"
    page = owner.client.get(path, headers=GERMAN)
    assert f"<h1>grace@example.org aus {world.org.legal_name} entfernen?</h1>" in page.text
    # The role inside the sentence is translated too.
    assert "grace@example.org (Aussteller) verliert sofort den Zugang" in page.text
    assert ">Mitglied entfernen</button>" in page.text and "Remove the member" not in page.text
    english = owner.client.get(path)
    assert "grace@example.org (issuer) loses access to this organisation at once." in english.text


def test_a_catalogue_form_error_summary_in_german(console_as: Login, world: World) -> None:
    issuer = console_as(world.org, Role.issuer)
    issuer.client.headers.update(GERMAN)
    page = issuer.post(
        f"/console/orgs/{world.org.slug}/courses/new", {"title": "", "action": "save"}
    )
    assert page.status_code == 422
    summary = page.text.split('id="error-summary-title">')[1].split("</h2>")[0]
    assert re.fullmatch(r"\d+ Fehler zu beheben \u2013 nichts wurde gespeichert", summary), summary
    assert "to fix" not in page.text


def test_a_class_lists_problems_and_counts_in_german(console_as: Login, world: World) -> None:
    issuer = console_as(world.org, Role.issuer)
    issuer.client.headers.update(GERMAN)
    rows = ["Vorname;Nachname;E-Mail"] + [
        f"Lerner{n};Müller;lerner{n}@example.org" for n in range(1, 13)
    ]
    rows.insert(14 - 1, "Ohne;Adresse;")  # row 14 of the file (the header is row 1)
    rows.append("Falsche;Adresse;lerner15(at)example.org")  # row 15
    data = ("\r\n".join(rows) + "\r\n").encode("utf-8")
    staged = issuer.client.post(
        f"/console/orgs/{world.org.slug}/issue/bulk",
        data={"micro_credential": world.mc.slug, **csrf_fields(issuer.client)},
        files={"file": ("kurs.csv", data, "text/csv")},
        follow_redirects=False,
    )
    assert staged.status_code == 303, staged.text
    preview = issuer.client.get(staged.headers["location"])
    assert "Zeilen mit einem Problem" in preview.text
    bad = preview.text.split('class="bad-rows"')[1].split("</table>")[0]
    row = re.search(r"<tr><td>14</td>.*?</tr>", bad)
    assert row is not None and "<td>E-Mail-Adresse fehlt</td>" in row.group(0), bad
    # A service's refusal with the e-mail checker's words, both translated.
    row = re.search(r"<tr><td>15</td>.*?</tr>", bad)
    assert row is not None, bad
    assert "E-Mail-Adresse: Eine E-Mail-Adresse muss ein @-Zeichen enthalten." in row.group(0)
    assert "E-mail address missing" not in preview.text
    assert "12 Personen erhalten das Badge" in preview.text
    assert "2 Zeilen werden übersprungen." in preview.text
    assert "12 Badges ausstellen" in preview.text
    # The file's description from the spreadsheet reader, in German words.
    assert "Text, getrennt durch Semikolon" in preview.text


def test_numbers_in_the_readers_form(console_as: Login, world: World) -> None:
    issuer = console_as(world.org, Role.issuer)
    english = issuer.client.get(f"/console/orgs/{world.org.slug}/issue/bulk")
    german = issuer.client.get(f"/console/orgs/{world.org.slug}/issue/bulk", headers=GERMAN)
    # The row limit (10,000 or more) with the reader's thousands separator.
    limit = re.search(r"At most .* and ([\d,]+) rows\.", english.text)
    assert limit is not None and "," in limit.group(1)
    assert f"und {limit.group(1).replace(',', '.')} Zeilen." in german.text


def test_the_catalogue_forms_vocabularies_in_german(console_as: Login, world: World) -> None:
    """The EU vocabularies' labels in the forms' lists: countries and languages by their German
    names (countries in German alphabetical order), levels, modes and fields of education from
    the German catalogue; the submitted values stay the concepts' codes."""
    owner = console_as(world.org, Role.owner)
    course = owner.client.get(f"/console/orgs/{world.org.slug}/courses/new", headers=GERMAN).text
    assert re.search(r'<option value="DE"[^>]*>Deutschland</option>', course)
    assert re.search(r'value="de"[^>]*> Deutsch</label>', course) and "> German<" not in course
    assert ">Präsenz</option>" in course and ">Presential</option>" not in course
    # Österreich sorts with the O's (after Niederlande), not after Zypern as its letter would.
    countries = re.findall(r'<option value="([A-Z]{2})"', course)
    assert countries.index("NL") < countries.index("AT") < countries.index("PL")
    micro = owner.client.get(
        f"/console/orgs/{world.org.slug}/micro-credentials/new", headers=GERMAN
    ).text
    assert re.search(r'<option value="5"[^>]*>Niveau 5</option>', micro)
    assert "Informations- und Kommunikationstechnologien" in micro
    english = owner.client.get(f"/console/orgs/{world.org.slug}/courses/new").text
    assert re.search(r'<option value="DE"[^>]*>Germany</option>', english)
