"""The services' own messages on German pages, through the real app on both databases: a
refusal or failure worded in English below the web layer (badges, catalogue, keys, mail) is
shown in German on a German page, its values (names, figures, a list of what is missing, a
day in the reader's form) kept; the same page in English shows the service's text unchanged."""

from __future__ import annotations

import json
import re
import smtplib
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from accounts.roles import Role
from backpack import sharing
from catalogue.models import LearningOutcome, LearningOutcomeSkill, MicroCredential, Organisation
from keys import eseal
from keys.eseal_models import SealCertificate
from skillshub.settings import Settings
from skillshub.web.app import create_app
from skillshub.web.console import service_words  # noqa: F401  (registers the console's patterns)
from skillshub.web.i18n import translate
from tests.backpack.support import issue, sign_in
from tests.badges.sharing.test_learner import _claim, _claim_link, _issue, _outbox
from tests.community.test_operators import operator_client
from tests.skillshub.test_console_org import P12_PASSWORD, _upload
from tests.skillshub.test_public_pages_german import HTML, _both, _get, _has, _lacks
from tests.support import own
from tests.support.console import ConsoleLogin, post_form
from tests.support.csrf import csrf_fields
from tests.support.world import World, make_world

Login = Callable[..., ConsoleLogin]
GERMAN = {"accept-language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    made = make_world(session, master_key)
    session.commit()
    return made


def _claimed(client: TestClient, world: World, settings: Settings) -> str:
    """A badge claimed in this client's browser: the manage page's path."""
    out = _issue(client, world)
    client.get("/?lang=en")
    _claim(client, _claim_link(_outbox(settings)[-1]))
    return f"/credentials/{out['id']}/manage"


def _europass_line(html: str) -> str:
    start = html.index('data-europass="unavailable">') + len('data-europass="unavailable">')
    return " ".join(unescape(html[start : html.index("</p>", start)]).split())


# --- the learner's pages -----------------------------------------------------------------------


def test_what_europass_needs_is_german_on_a_german_manage_page(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    manage = _claimed(client, world, settings)
    with Session(engine) as fresh:  # a micro-credential without ECTS credits or outcomes
        mc = fresh.get(MicroCredential, world.mc.id)
        assert mc is not None
        mc.ects = None
        fresh.add(mc)
        outcomes = select(LearningOutcome.id).where(LearningOutcome.micro_credential_id == mc.id)
        fresh.execute(
            delete(LearningOutcomeSkill).where(col(LearningOutcomeSkill.outcome_id).in_(outcomes))
        )
        fresh.execute(
            delete(LearningOutcome).where(col(LearningOutcome.micro_credential_id) == mc.id)
        )
        fresh.commit()
    english, german = _both(client, manage)
    assert _europass_line(english) == (
        "Europass needs ECTS credits (the notional workload in ECTS) and learning outcomes, "
        "which the provider has not given for this badge yet."
    )
    assert _europass_line(german) == (
        "Europass braucht ECTS-Punkte (der rechnerische Arbeitsaufwand in ECTS) und "
        "Lernergebnisse; diese Angaben hat der Anbieter für dieses Badge noch nicht gemacht."
    )
    _lacks(german, "Europass needs", "learning outcomes")


def test_an_expired_seal_is_german_with_its_day_in_the_readers_form(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    manage = _claimed(client, world, settings)
    then = datetime.now(UTC) - timedelta(days=40)
    with Session(engine) as fresh:
        org = fresh.get(Organisation, world.org.id)
        assert org is not None
        cert, key = eseal.generate_test_seal(org, days=10, now=then)
        eseal.import_certificate(fresh, world.master_key, org, cert, key, now=then)
        [seal] = fresh.exec(select(SealCertificate)).all()
        seal.self_signed = False  # as if it were a qualified certificate, now expired
        fresh.add(seal)
        fresh.commit()
    expired = cert.not_valid_after_utc
    english, german = _both(client, manage)
    assert _europass_line(english) == (
        f"Not available: {world.org.legal_name}'s electronic seal expired on "
        f"{expired:%d %B %Y}. Ask them to renew it."
    )
    day = format_date(expired, format="long", locale="de_DE")
    assert _europass_line(german) == (
        f"Nicht verfügbar: Das elektronische Siegel von {world.org.legal_name} ist am {day} "
        "abgelaufen. Bitten Sie darum, es zu erneuern."
    )
    assert f"{expired:%d %B %Y}" not in german  # not the service's form of the day


def test_a_review_too_long_is_refused_in_german(
    client: TestClient, world: World, settings: Settings
) -> None:
    review = _claimed(client, world, settings) + "/review"
    form = {"rating": "4", "text": "x" * 1200}
    answers = {
        language: client.post(
            f"{review}?lang={language}", data=form | csrf_fields(client), headers=HTML
        )
        for language in ("en", "de")
    }
    assert {a.status_code for a in answers.values()} == {422}
    _has(answers["en"].text, "the review is too long (1200 characters; at most 1000)")
    _has(answers["de"].text, "Die Bewertung ist zu lang (1200 Zeichen; höchstens 1000).")
    _lacks(answers["de"].text, "is too long")


class _Refusing:
    """An SMTP server that takes the connection and refuses the recipient."""

    def __init__(self, host: str, port: int, timeout: float = 30) -> None:
        pass

    def __enter__(self) -> _Refusing:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def starttls(self, context: object = None) -> None:
        pass

    def send_message(self, message: Any) -> None:
        raise smtplib.SMTPRecipientsRefused({"ada@example.org": (550, b"5.1.1 unknown user")})


def test_the_wallet_pages_mail_failure_is_german(
    client: TestClient,
    world: World,
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manage = _claimed(client, world, settings)
    monkeypatch.setattr(smtplib, "SMTP", _Refusing)
    smtp = settings.model_copy(update={"email_backend": "smtp", "smtp_host": "mail.example"})
    with TestClient(create_app(smtp, engine=engine), cookies=client.cookies) as browser:
        pages = {
            language: browser.post(
                f"{manage}/wallet?lang={language}",
                data={"tx_code": "1"} | csrf_fields(browser),
                headers=HTML,
            )
            for language in ("en", "de")
        }
    assert {p.status_code for p in pages.values()} == {200}
    _has(
        pages["en"].text,
        "We could not e-mail your transaction code (SMTP delivery via mail.example:587 failed: "
        "the server refused the recipient (SMTP 550)).",
    )
    _has(
        pages["de"].text,
        "(Der Versand über mail.example:587 (SMTP) ist fehlgeschlagen: der Server hat den "
        "Empfänger abgelehnt (SMTP 550))",
    )
    _lacks(pages["de"].text, "SMTP delivery", "refused the recipient")


def test_a_failure_without_words_of_its_own_is_german_too(
    client: TestClient,
    world: World,
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Anything but a MailError is named by its type only (it may quote the address)."""
    manage = _claimed(client, world, settings)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("ada@example.org made it fail")

    monkeypatch.setattr("badges.wallet.offers.make_mailer", broken)
    german = client.post(
        f"{manage}/wallet?lang=de", data={"tx_code": "1"} | csrf_fields(client), headers=HTML
    )
    english = client.post(
        f"{manage}/wallet?lang=en", data={"tx_code": "1"} | csrf_fields(client), headers=HTML
    )
    _has(english.text, "(the e-mail could not be sent (RuntimeError))")
    _has(german.text, "(die E-Mail konnte nicht gesendet werden (RuntimeError))")
    _lacks(german.text, "could not be sent", "ada@example.org made it fail")


# --- the catalogue's pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "english", "german"),
    [
        ("/courses/nope", "course 'nope' does not exist", "Den Kurs „nope“ gibt es nicht."),
        (
            "/micro-credentials/nope",
            "micro-credential 'nope' does not exist",
            "Das Microcredential „nope“ gibt es nicht.",
        ),
        ("/skills/nope", "skill 'nope' does not exist", "Die Fähigkeit „nope“ gibt es nicht."),
        (
            "/job-roles/nope",
            "job role 'nope' does not exist",
            "Die Berufsrolle „nope“ gibt es nicht.",
        ),
        (
            "/organisations/nope",
            "organisation 'nope' does not exist",
            "Die Organisation „nope“ gibt es nicht.",
        ),
        ("/issuers/nope", "issuer 'nope' does not exist", "Den Aussteller „nope“ gibt es nicht."),
    ],
)
def test_a_missing_catalogue_entry_is_german(
    client: TestClient, path: str, english: str, german: str
) -> None:
    en, de = _both(client, path, status=404)
    _has(en, english)
    _has(de, german, "Seite nicht gefunden")
    _lacks(de, "does not exist")


@pytest.mark.parametrize(
    ("query", "english", "german"),
    [
        ("eqf_level=x", "eqf_level must be a number", "Das EQR-Niveau muss eine Zahl sein."),
        ("provider=nope", "no provider 'nope'", "Kein Anbieter „nope“."),
        ("skill=nope", "no skill 'nope'", "Keine Fähigkeit „nope“."),
        (
            "eqf_level=9",
            "9 is not a supported value of 'European Qualifications Framework level' "
            "(use one of: 1, 2, 3, 4, 5, 6, 7, 8)",
            "9 ist kein zulässiger Wert für „Niveau des Europäischen Qualifikationsrahmens“ "
            "(möglich sind: 1, 2, 3, 4, 5, 6, 7, 8).",
        ),
    ],
)
def test_a_refused_search_filter_is_german(
    client: TestClient, query: str, english: str, german: str
) -> None:
    en, de = _both(client, f"/search?{query}", status=422)
    _has(en, english)
    _has(de, german, "Neue Suche beginnen")
    _lacks(de, english)


# --- the console -------------------------------------------------------------------------------


def test_a_missing_entry_in_the_console_is_german(console_as: Login, world: World) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/courses/nope/edit"
    english = issuer.client.get(path, headers=HTML)
    german = issuer.client.get(path, headers={**HTML, **GERMAN})
    assert english.status_code == german.status_code == 404
    _has(english.text, "course 'nope' does not exist")
    _has(german.text, "Den Kurs „nope“ gibt es nicht.")
    _lacks(german.text, "does not exist")


def test_a_catalogue_forms_number_problems_are_german(console_as: Login, world: World) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/micro-credentials/new"
    form = {"title": "Zellchemie", "ects": "viele", "eqf_level": "sechs", "action": "save"}
    english = issuer.post(path, form)
    issuer.client.headers.update(GERMAN)
    german = issuer.post(path, form)
    assert english.status_code == german.status_code == 422
    for words in ("ECTS credits: must be a number", "EQF level: must be a whole number"):
        _has(english.text, words)
    for words in ("ECTS-Punkte: muss eine Zahl sein", "EQR-Niveau: muss eine ganze Zahl sein"):
        _has(german.text, words)
    _lacks(german.text, "must be a number", "must be a whole number", "is required")


def test_text_a_field_may_not_hold_is_refused_in_german(console_as: Login, world: World) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/micro-credentials/new"
    form = {"title": "Zell\nchemie", "description": "Eine\u0007Beschreibung", "action": "save"}
    english = issuer.post(path, form)
    issuer.client.headers.update(GERMAN)
    german = issuer.post(path, form)
    assert english.status_code == german.status_code == 422
    for words in (
        "holds a control character (U+0007)",
        "must be a single line (it holds a line break, U+000A)",
    ):
        _has(english.text, words)
    for words in (
        "enthält ein Steuerzeichen (U+0007)",
        "muss eine einzige Zeile sein (enthält einen Zeilenumbruch, U+000A)",
    ):
        _has(german.text, words)
    _lacks(german.text, "holds a", "single line")


def test_a_change_the_database_refused_reads_in_german() -> None:
    """The backstop of two providers taking one address at the same instant (a unique index
    refusing the second), as the console page words it."""
    assert translate(
        "de", "course 'zellchemie': the database refused it (taken or still in use)"
    ) == (
        "Kurs „zellchemie“: Die Datenbank hat die Änderung abgelehnt (schon vergeben oder noch "
        "in Verwendung)"
    )
    assert (
        translate(
            "de",
            "deleting micro-credential 'zell': the database refused it (taken or still in use)",
        )
        == "Microcredential „zell“ löschen: Die Datenbank hat es abgelehnt (noch in Verwendung)"
    )


def test_an_expired_seal_certificate_is_refused_in_german(
    console_as: Login, world: World, session: Session
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    owner = console_as(world.org, Role.owner)
    path = f"/console/orgs/{world.org.slug}/organisation/seal"
    then = datetime.now(UTC) - timedelta(days=40)
    cert, key = eseal.generate_test_seal(world.org, days=10, now=then)
    data = pkcs12.serialize_key_and_certificates(
        b"seal", key, cert, None, serialization.BestAvailableEncryption(P12_PASSWORD.encode())
    )
    english = _upload(owner, path, data, P12_PASSWORD)
    owner.client.headers.update(GERMAN)
    german = _upload(owner, path, data, P12_PASSWORD)
    wrong = _upload(owner, path, data, "not the password")
    assert english.status_code == german.status_code == wrong.status_code == 422
    expired = cert.not_valid_after_utc
    error = english.text.split('id="pkcs12-error">')[1].split("<")[0]
    assert error == f"the e-seal certificate expired on {expired:%Y-%m-%d}; import a current one"
    error = german.text.split('id="pkcs12-error">')[1].split("<")[0]
    day = format_date(expired, format="long", locale="de_DE")
    assert (
        error == f"Das E-Siegel-Zertifikat ist am {day} abgelaufen; importieren Sie ein aktuelles."
    )
    error = wrong.text.split('id="password-error">')[1].split("<")[0]
    assert error == "Die PKCS#12-Datei lässt sich nicht öffnen: falsches Passwort."


def test_the_english_pages_keep_the_services_words(client: TestClient) -> None:
    """Accept-Language alone: an English browser reads the service's text as it wrote it."""
    page = client.get("/search?eqf_level=x", headers={**HTML, "accept-language": "en-GB"})
    assert page.status_code == 422
    _has(page.text, "eqf_level must be a number")
    german = _get(TestClient(client.app), "/search?eqf_level=x", "de", 422)
    _has(german, "Das EQR-Niveau muss eine Zahl sein.")


# --- the backpack ------------------------------------------------------------------------------


def _field_error(html: str, field_id: str) -> str:
    start = html.index(f'id="{field_id}">') + len(f'id="{field_id}">')
    return " ".join(unescape(html[start : html.index("<", start)]).split())


def test_the_backpacks_address_check_is_german(client: TestClient) -> None:
    """The e-mail checker's reason inside the service's sentence, both in German."""
    answers = {
        language: client.post(
            f"/backpack/sign-in?lang={language}",
            data={"email": "ada.example.org"} | csrf_fields(client),
            headers=HTML,
        )
        for language in ("en", "de")
    }
    assert {a.status_code for a in answers.values()} == {422}
    assert _field_error(answers["en"].text, "email-error") == (
        "This is not an e-mail address: An email address must have an @-sign."
    )
    assert _field_error(answers["de"].text, "email-error") == (
        "Das ist keine E-Mail-Adresse: Eine E-Mail-Adresse muss ein @-Zeichen enthalten."
    )


def test_the_backpacks_profile_and_leave_refusals_are_german(
    client: TestClient, world: World, settings: Settings
) -> None:
    issue(client, world, "ada@example.org")
    sign_in(client, settings, "ada@example.org")
    refused = {
        language: client.post(
            f"/backpack/share/profile?lang={language}",
            data={"handle": "-x", "name": "Ada"} | csrf_fields(client),
            headers=HTML,
        )
        for language in ("en", "de")
    }
    assert {r.status_code for r in refused.values()} == {422}
    assert _field_error(refused["en"].text, "profile-error").startswith("A handle has 3 to 30")
    assert _field_error(refused["de"].text, "profile-error") == (
        "Eine Kennung hat 3 bis 30 Buchstaben (a bis z), Ziffern oder Bindestriche und beginnt "
        "und endet mit einem Buchstaben oder einer Ziffer."
    )
    unconfirmed = {
        language: client.post(
            f"/backpack/leave?lang={language}", data=csrf_fields(client), headers=HTML
        )
        for language in ("en", "de")
    }
    assert {u.status_code for u in unconfirmed.values()} == {422}
    assert _field_error(unconfirmed["en"].text, "leave-error") == (
        "Tick the box to confirm that you want to delete your account."
    )
    assert _field_error(unconfirmed["de"].text, "leave-error") == (
        "Setzen Sie das Häkchen, um zu bestätigen, dass Sie Ihr Konto löschen möchten."
    )


# --- the verify page, the backpack's import, the skills gap ----------------------------------


def _offline(settings: Settings, engine: Engine, **changes: Any) -> TestClient:
    """An app whose verifier fetches nothing (an unreachable link fails the same way always)."""
    return TestClient(
        create_app(settings.model_copy(update={"fetch_offline": True, **changes}), engine=engine)
    )


def _verdict_error(html: str) -> str:
    start = html.index('id="verdict">')
    block = html[start : html.index("</div>", start)]
    return " ".join(unescape(block.split("<p>")[-1].split("</p>")[0]).split())


@pytest.mark.parametrize(
    ("form", "english", "german"),
    [
        (
            {"credential": '{"a": '},
            "the input is not valid JSON: Expecting value: line 1 column 6 (char 5)",
            "Die Eingabe ist kein gültiges JSON: Expecting value: line 1 column 6 (char 5)",
        ),
        (
            {"credential": '{"a": 1, "a": 2}'},
            "the JSON repeats a member name in one object",
            "Das JSON wiederholt einen Namen in einem Objekt.",
        ),
        (
            {"credential": "hello"},
            "not a credential: expected JSON, a compact JWS, or a baked PNG or SVG image",
            "Das ist kein Nachweis: Erwartet wird JSON, ein kompaktes JWS oder ein PNG- oder "
            "SVG-Bild mit eingebettetem Badge.",
        ),
        (
            {"url": "https://10.0.0.1/badge.json"},
            "10.0.0.1 is not a public address",
            "10.0.0.1 ist keine öffentliche Adresse.",
        ),
        (
            {"url": "https://badges.example.org/ada.json"},
            "badges.example.org: not among the pinned documents, and this verifier is offline",
            "badges.example.org: nicht unter den hinterlegten Dokumenten, und diese Prüfstelle "
            "ruft nichts aus dem Netz ab.",
        ),
        (
            {"url": "ftp://badges.example.org/ada.json"},
            "the link must be an https URL",
            "Der Link muss eine https-Adresse sein.",
        ),
        (
            {},
            "give a badge: paste it, upload a file, or enter a link",
            "Geben Sie ein Badge an: Fügen Sie es ein, laden Sie eine Datei hoch oder geben Sie "
            "einen Link ein.",
        ),
    ],
)
def test_the_verify_pages_refusal_is_german(
    settings: Settings, engine: Engine, form: dict[str, str], english: str, german: str
) -> None:
    with _offline(settings, engine) as web:
        pages = {
            language: web.post(f"/verify?lang={language}", data=form, headers=HTML)
            for language in ("en", "de")
        }
    assert {p.status_code for p in pages.values()} == {pages["en"].status_code}
    assert pages["en"].status_code in (400, 422)
    assert _verdict_error(pages["en"].text) == english
    assert _verdict_error(pages["de"].text) == german
    _has(pages["de"].text, "Das ließ sich nicht prüfen")


def test_an_image_without_a_badge_is_german(settings: Settings, engine: Engine) -> None:
    png = own.png_bytes()
    with _offline(settings, engine) as web:
        image = {
            language: web.post(
                f"/verify?lang={language}",
                files={"file": ("plain.png", png, "image/png")},
                headers=HTML,
            )
            for language in ("en", "de")
        }
    assert {i.status_code for i in image.values()} == {422}
    assert _verdict_error(image["en"].text) == "the PNG image carries no Open Badges credential"
    assert _verdict_error(image["de"].text) == "Das PNG-Bild enthält keinen Open-Badges-Nachweis."


def test_an_unreachable_link_is_german_and_so_is_its_remembered_failure(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_such_name(*_args: object, **_kwargs: object) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    link = "/verify?url=https://badges.example.org/ada.json"
    first = _get(client, link, "de", 422)  # remembered for a while: not tried again at once
    english, german = _both(client, link, status=422)
    assert _verdict_error(first) == (
        "badges.example.org: Diesen Namen gibt es nicht (er lässt sich nicht auflösen)."
    )
    assert _verdict_error(english) == (
        "badges.example.org: the name does not resolve (a moment ago; not tried again for 60 s)"
    )
    assert _verdict_error(german) == (
        "badges.example.org: Diesen Namen gibt es nicht (er lässt sich nicht auflösen). (vor "
        "einem Moment; wird 60 s lang nicht erneut versucht)"
    )


def test_the_verify_api_answers_in_english_whatever_the_browser_reads(
    settings: Settings, engine: Engine
) -> None:
    with _offline(settings, engine) as web:
        answers = [
            web.post(
                "/api/v1/verify",
                content=b'{"a": 1, "a": 2}',
                headers={"content-type": "application/json", **language},
            )
            for language in ({}, GERMAN, {"cookie": "shub_lang=de"})
        ]
        fetched = web.post(
            "/api/v1/verify?lang=de", json={"url": "https://10.0.0.1/badge.json"}, headers=GERMAN
        )
    assert [a.status_code for a in answers] == [400, 400, 400]
    for answer in answers:
        assert answer.json()["error"]["message"] == "the JSON repeats a member name in one object"
    assert fetched.status_code == 422
    assert fetched.json()["error"]["message"] == "10.0.0.1 is not a public address"


def test_an_upload_too_large_is_refused_in_german(settings: Settings, engine: Engine) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (300 * 1024)
    with _offline(settings, engine, max_upload_bytes=256 * 1024) as web:
        pages = {
            language: web.post(
                f"/verify?lang={language}",
                files={"file": ("big.png", big, "image/png")},
                headers=HTML,
            )
            for language in ("en", "de")
        }
    assert {p.status_code for p in pages.values()} == {413}
    assert pages["en"].text == (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>File too large · Skills Hub</title></head><body><main>"
        "<h1>The file is too large</h1><p>At most 0.25 MB can be sent at once. Go back, and "
        "upload a smaller file (split a long class list, or save it as CSV, which is smaller "
        "than .xlsx). Nothing was stored.</p></main></body></html>"
    )
    german = pages["de"].text
    assert '<html lang="de">' in german and "<title>Datei zu groß · Skills Hub</title>" in german
    assert "<h1>Die Datei ist zu groß</h1>" in german
    assert "Höchstens 0,25 MB können auf einmal gesendet werden." in german
    assert "Es wurde nichts gespeichert." in german and "Go back" not in german


def _block(html: str, element_id: str) -> str:
    """The words of the element with this id (a div holding paragraphs)."""
    start = html.index(f'id="{element_id}">') + len(f'id="{element_id}">')
    inner = html[start : html.index("</div>", start)]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", inner)).split())


def _import_error(html: str) -> str:
    return _block(html, "import-error")


def test_the_backpacks_import_refusals_are_german(
    client: TestClient, world: World, settings: Settings
) -> None:
    issue(client, world, "ada@example.org")
    sign_in(client, settings, "ada@example.org")
    signer = own.Signer.ed25519()
    expired = signer.data_integrity(own.credential(signer.did, valid_until="2025-02-01T00:00:00Z"))

    def imported(language: str, data: dict[str, str]) -> Any:
        return client.post(
            f"/backpack/import?lang={language}", data=data | csrf_fields(client), headers=HTML
        )

    refused = {lang: imported(lang, {"credential": json.dumps(expired)}) for lang in ("en", "de")}
    assert {r.status_code for r in refused.values()} == {422}
    english = _import_error(refused["en"].text)
    assert english.startswith("Not added. Not valid: This badge expired on 2025-02-01T00:00:00Z.")
    detail = english.removeprefix(
        "Not added. Not valid: This badge expired on 2025-02-01T00:00:00Z."
    )
    assert detail.startswith(" (") and detail.endswith(")")  # the first check's own words
    german = _import_error(refused["de"].text)
    assert german == (
        "Nicht hinzugefügt. Nicht gültig: Dieses Badge ist am 1. Februar 2025 abgelaufen." + detail
    )
    unreadable = {lang: imported(lang, {"credential": "hello"}) for lang in ("en", "de")}
    assert _import_error(unreadable["en"].text) == (
        "Not added. not a credential: expected JSON, a compact JWS, or a baked PNG or SVG image"
    )
    assert _import_error(unreadable["de"].text) == (
        "Nicht hinzugefügt. Das ist kein Nachweis: Erwartet wird JSON, ein kompaktes JWS oder "
        "ein PNG- oder SVG-Bild mit eingebettetem Badge."
    )
    nothing = {lang: imported(lang, {}) for lang in ("en", "de")}
    assert _import_error(nothing["en"].text) == (
        "Not added. Give a badge: upload a file, paste it, or enter a link."
    )
    assert _import_error(nothing["de"].text) == (
        "Nicht hinzugefügt. Geben Sie ein Badge an: Laden Sie eine Datei hoch, fügen Sie es "
        "ein oder geben Sie einen Link ein."
    )


def test_the_skills_gaps_error_is_german(client: TestClient, world: World) -> None:
    english, german = _both(client, "/gap?job_role=nope", status=404)
    assert _block(english, "gap-error") == "job role 'nope' does not exist"
    assert _block(german, "gap-error") == "Die Berufsrolle „nope“ gibt es nicht."
    too_many = {
        language: client.post(
            f"/gap?lang={language}",
            data={"badge": [f"badge {n}" for n in range(21)]} | csrf_fields(client),
            headers=HTML,
        )
        for language in ("en", "de")
    }
    assert {t.status_code for t in too_many.values()} == {422}
    _has(too_many["en"].text, "at most 20 credentials at a time")
    _has(too_many["de"].text, "Höchstens 20 Nachweise auf einmal.")
    _lacks(too_many["de"].text, "credentials at a time")


def test_the_backpacks_collection_refusals_are_german(
    client: TestClient, world: World, settings: Settings
) -> None:
    issue(client, world, "ada@example.org")
    sign_in(client, settings, "ada@example.org")
    unnamed = {
        language: client.post(
            f"/backpack/share/collections?lang={language}",
            data={"name": "  "} | csrf_fields(client),
            headers=HTML,
        )
        for language in ("en", "de")
    }
    assert {u.status_code for u in unnamed.values()} == {422}
    _has(unnamed["en"].text, "A collection needs a name of 1 to 100 characters.")
    _has(unnamed["de"].text, "Eine Zusammenstellung braucht einen Namen mit 1 bis 100 Zeichen.")
    missing = {
        language: client.post(
            f"/backpack/share/collections/nope?lang={language}",
            data=csrf_fields(client),
            headers=HTML,
        )
        for language in ("en", "de")
    }
    assert {m.status_code for m in missing.values()} == {404}
    _has(missing["en"].text, "There is no such collection.")
    _has(missing["de"].text, "Diese Zusammenstellung gibt es nicht.")
    for n in range(sharing.MAX_COLLECTIONS):
        made = client.post(
            "/backpack/share/collections",
            data={"name": f"For employer {n}"} | csrf_fields(client),
            headers=HTML,
            follow_redirects=False,
        )
        assert made.status_code == 303
    full = {
        language: client.post(
            f"/backpack/share/collections?lang={language}",
            data={"name": "One more"} | csrf_fields(client),
            headers=HTML,
        )
        for language in ("en", "de")
    }
    assert {f.status_code for f in full.values()} == {409}
    _has(full["en"].text, f"You can have at most {sharing.MAX_COLLECTIONS} collections.")
    _has(
        full["de"].text,
        f"Sie können höchstens {sharing.MAX_COLLECTIONS} Zusammenstellungen haben.",
    )


# --- the console's rarer catalogue problems -------------------------------------------------


def test_a_catalogue_forms_duration_slug_and_stacking_problems_are_german(
    console_as: Login, world: World
) -> None:
    issuer = console_as(world.org, Role.issuer)
    path = f"/console/orgs/{world.org.slug}/micro-credentials/new"
    form = {
        "title": "Zellchemie",
        "slug": "Zell Chemie",
        "maximum_duration": "six months",
        "stackable_towards": "nope",
        "achievement_type": "Nope",
        "action": "save",
    }
    english = issuer.post(path, form)
    issuer.client.headers.update(GERMAN)
    german = issuer.post(path, form)
    assert english.status_code == german.status_code == 422
    for words in (
        "Address (slug): 'Zell Chemie' must be lower-case letters, digits and hyphens",
        "Maximum duration: 'SIX MONTHS' is not an ISO 8601 duration: write e.g. P6M (six "
        "months), P1Y, P90D or PT40H",
        "Achievement type: 'Nope' is not an Open Badges 3.0 achievement type",
    ):
        _has(english.text, words)
    for words in (
        "Adresse (Slug): „Zell Chemie“ darf nur Kleinbuchstaben, Ziffern und Bindestriche "
        "enthalten",
        "Maximale Dauer: „SIX MONTHS“ ist keine Dauer nach ISO 8601: Schreiben Sie z. B. P6M "
        "(sechs Monate), P1Y, P90D oder PT40H",
        "Art der Leistung: „Nope“ ist keine Leistungsart von Open Badges 3.0",
    ):
        _has(german.text, words)
    _lacks(german.text, "must be lower-case", "is not an ISO 8601 duration", "achievement type")
    taken = {**form, "slug": world.mc.slug, "maximum_duration": "P6M", "achievement_type": ""}
    again = issuer.post(path, taken)
    _has(
        again.text,
        f"Adresse (Slug): die Adresse „{world.mc.slug}“ hat bereits ein anderes Microcredential",
    )
    _lacks(again.text, "is already used")


def test_the_hubs_new_organisation_refusals_are_german(
    client: TestClient, session: Session
) -> None:
    browser = operator_client(client, session, "op@alliance.example")
    for form, english, german in (
        (
            {"legal_name": "Amp Training", "country": "Deu"},
            "country 'DEU' must be an ISO 3166-1 alpha-2 code, e.g. DE",
            "Das Land „DEU“ muss ein Code nach ISO 3166-1 alpha-2 sein, z. B. DE.",
        ),
        (
            {"legal_name": "Amp Training", "country": "AT", "slug": "Amp Training"},
            "slug 'Amp Training' must be lower-case letters, digits and hyphens",
            "Die Adresse (Slug) „Amp Training“ darf nur Kleinbuchstaben, Ziffern und "
            "Bindestriche enthalten.",
        ),
        (
            {"legal_name": "Amp Training", "country": "AT", "homepage": "https://amp.example/\x01"},
            "homepage: holds a control character (U+0001)",
            "homepage: enthält ein Steuerzeichen (U+0001)",
        ),
    ):
        answers = {
            language: post_form(browser, f"/console/hub/organisations?lang={language}", form)
            for language in ("en", "de")
        }
        assert {a.status_code for a in answers.values()} == {422}
        _has(answers["en"].text, english)
        _has(answers["de"].text, german)
        _lacks(answers["de"].text, english)
