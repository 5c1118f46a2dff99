"""The public pages in German, through the real app on both databases: each page asked for in
German (`?lang=de`, or Accept-Language) shows its own German headings and none of its English
page words, while catalogue content (titles, skill labels, a badge's text) stays as written; the
same page in English is unchanged."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from catalogue.demo import load_demo_catalogue
from catalogue.models import Course
from skillshub.settings import Settings
from tests.badges.sharing.test_learner import _claim, _claim_link, _issue, _outbox
from tests.skillshub.test_catalogue_pages import Node, parse
from tests.support.csrf import csrf_fields
from tests.support.world import World, make_world

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
# The elements that carry a page's own words (catalogue content sits in h1 and dd).
WORD_TAGS = ("h2", "h3", "dt", "th", "legend", "label", "button", "summary")
# Page words written the same in both languages.
SAME_IN_BOTH = {"Website", "Europass", "Online", "Format", "QR code"}


@pytest.fixture
def demo(session: Session) -> None:
    load_demo_catalogue(session)
    session.commit()


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    made = make_world(session, master_key)
    session.commit()
    return made


def _get(client: Any, url: str, language: str, status: int = 200) -> str:
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}lang={language}", headers=HTML)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{language}">' in response.text
    return response.text


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return " ".join(found.group(1).split())


def _words(main: Node) -> list[str]:
    """The page words: a heading that links somewhere names catalogue content instead."""
    return [
        n.text
        for n in main.iter()
        if n.tag in WORD_TAGS and n.text and not any(c.tag == "a" for c in n.iter())
    ]


def _compare(english: str, german: str) -> tuple[Node, Node]:
    """The two pages have the same shape; every page word differs between them."""
    en, de = parse(english), parse(german)
    en_words, de_words = _words(en), _words(de)
    assert len(en_words) == len(de_words), (en_words, de_words)
    left = [
        (e, d) for e, d in zip(en_words, de_words, strict=True) if e == d and e not in SAME_IN_BOTH
    ]
    assert not left, f"English page words on the German page: {left}"
    return en, de


def _both(client: Any, url: str, status: int = 200) -> tuple[str, str]:
    english = _get(client, url, "en", status)
    german = _get(client, url, "de", status)
    return english, german


def _has(html: str, *texts: str) -> None:
    flat = " ".join(parse(html).text.split()) + " " + _title(html)
    for text in texts:
        assert text in flat, (text, flat[:2000])


def _lacks(html: str, *texts: str) -> None:
    flat = " ".join(parse(html).text.split()) + " " + _title(html)
    for text in texts:
        assert text not in flat, text


# --- the catalogue ---------------------------------------------------------------------------


def test_home_in_german(client: TestClient) -> None:
    english, german = _both(client, "/")
    _compare(english, german)
    _has(english, "Micro-credentials that prove skills", "Browse the catalogue", "Home · Skills")
    _has(
        german,
        "Microcredentials, die Fähigkeiten belegen",
        "Katalog durchsuchen",
        "Ihre Qualifikationslücke finden",
        "Badge prüfen",
        "Startseite · Skills Hub",
    )
    _lacks(german, "Micro-credentials that prove skills", "Browse the catalogue", "Find your")
    assert 'placeholder="z. B. Batteriesysteme, Schweißen, Datenanalyse"' in german


def test_search_in_german(client: TestClient, demo: None) -> None:
    english, german = _both(client, "/search?q=battery&eqf_level=6")
    _compare(english, german)
    _has(english, "Search the catalogue", "results for “battery”", "Any language")
    _has(german, "Katalog durchsuchen", "Treffer für „battery“", "Jede Sprache", "Niveau 6")
    _lacks(german, "Search the catalogue", "results for", "Any language", "Level 6")
    # The kinds, plural in the filter and singular on each result.
    assert ">Microcredentials</option>" in german and ">Micro-credentials</option>" in english
    assert 'class="tag kind kind-course">Kurs<' in german
    assert 'class="tag kind kind-course">Course<' in english
    # Nothing found, and a refused filter.
    nothing_en, nothing_de = _both(client, "/search?q=zzqxj")
    _has(nothing_en, "Nothing matches “zzqxj”.")
    _has(nothing_de, "Keine Treffer für „zzqxj“.", "Versuchen Sie weniger oder kürzere Wörter")
    refused = _get(client, "/search?eqf_level=x", "de", 422)
    _has(refused, "Neue Suche beginnen")


def test_skill_and_job_role_in_german(client: TestClient, demo: None) -> None:
    english, german = _both(client, "/job-roles/battery-system-engineer")
    _compare(english, german)
    _has(english, "Skills this role needs", "Essential skills", "Level needed")
    _has(
        german,
        "Berufsrolle",
        "Fähigkeiten, die diese Rolle erfordert",
        "Wesentliche Fähigkeiten",
        "Benötigtes Niveau",
        "Kurse, die diese Fähigkeiten vermitteln",
        "Meine Qualifikationslücke für diese Rolle finden",
    )
    _lacks(german, "Skills this role needs", "Essential skills", "Courses that teach")
    # The levels (a shared macro) in German too.
    levels = {n.text for n in parse(german).find_all("span", class_="level")}
    assert levels and levels <= {"Grundkenntnisse", "Anwender", "Experte"}, levels
    assert {n.text for n in parse(english).find_all("span", class_="level")} <= {
        "Awareness",
        "Practitioner",
        "Expert",
    }
    role = parse(german)
    skill_href = role.find("table").find("a").attrs["href"] or ""
    english, german = _both(client, skill_href)
    _compare(english, german)
    _has(english, "Job roles that need it", "Courses that teach it")
    _has(german, "Berufsrollen, die sie erfordern", "Kurse, die sie vermitteln")
    _has(german, "Microcredentials, die sie belegen")
    _lacks(german, "Job roles that need it", "Courses that teach it", "Teaches it at level")


def test_course_and_provider_in_german(client: TestClient, demo: None, session: Session) -> None:
    course = session.exec(select(Course).order_by(col(Course.id))).first()
    assert course is not None and course.start_dates
    english, german = _both(client, f"/courses/{course.slug}")
    en, de = _compare(english, german)
    assert en.find("h1").text == de.find("h1").text == course.title  # content as written
    _has(english, "Course facts", "Skills taught", "Micro-credentials it awards")
    _has(german, "Kursdaten", "Vermittelte Fähigkeiten", "Microcredentials, die er verleiht")
    _has(german, "Was Absolventinnen und Absolventen sagen", "Noch keine Bewertung")
    _lacks(german, "Course facts", "Skills taught", "What graduates say", "Not stated")
    workload = parse(german).find("dl").find_all("dd")[3].text
    assert "Stunden" in workload and "hours" not in workload, workload
    # Dates and vocabulary labels in the reader's form.
    assert re.search(r"<time datetime=\"[\d-]+\">\d{1,2}\. \w+ \d{4}</time>", german)
    provider = (de.find("p", class_="meta").find("a").attrs["href"]) or ""
    english, german = _both(client, provider)
    _compare(english, german)
    _has(english, "Training provider")
    _has(german, "Bildungsanbieter", "Den Katalog dieses Anbieters durchsuchen")
    _lacks(german, "Training provider", "Search this provider")


def test_micro_credential_in_german(client: TestClient, demo: None) -> None:
    english, german = _both(client, "/micro-credentials/bms-engineer")
    en, de = _compare(english, german)
    assert en.find("h1").text == de.find("h1").text  # its title, as written
    _has(
        english,
        "The micro-credential\N{RIGHT SINGLE QUOTATION MARK}s elements",
        "Mandatory elements",
        "Identification of the learner",
    )
    _has(
        german,
        "Die Angaben des Microcredentials",
        "Pflichtangaben",
        "Optionale Angaben",
        "Identifizierung der lernenden Person",
        "Art der Prüfung",
        "Art der Qualitätssicherung",
        "Europäischer Qualifikationsrahmen",
        "Das Badge",
        "6 Monate",
    )
    _lacks(german, "Mandatory elements", "Optional elements", "Type of assessment", "Level 6")
    _has(english, "Electronics and automation")  # its field of education (ISCED-F)
    _has(german, "Elektronik und Automation")
    # The vocabularies' labels: EQF level, the form of participation, the quality assurance.
    facts = {n.text: n for n in de.iter() if n.tag == "dd" and n.attrs.get("data-element")}
    by_element = {n.attrs["data-element"]: n.text for n in facts.values()}
    assert by_element["level"].startswith("EQR Niveau ")
    english_facts = {
        n.attrs["data-element"]: n.text
        for n in en.iter()
        if n.tag == "dd" and n.attrs.get("data-element")
    }
    assert english_facts["level"].startswith("EQF Level ")
    for element in ("assessment", "quality-assurance", "country"):
        assert by_element[element] != english_facts[element], element


def test_issuers_in_german(client: TestClient, world: World) -> None:
    english, german = _both(client, "/issuers")
    _compare(english, german)
    _has(german, "Aussteller · Skills Hub")
    _lacks(german, "Issuers")
    english, german = _both(client, f"/issuers/{world.issuer.slug}")
    _compare(english, german)
    _has(english, "Issuer identifier", "Issues Open Badges 3.0 micro-credentials on behalf of")
    _has(german, "Kennung des Ausstellers", "Schlüssel", "Stellt Microcredentials als Open Badges")
    _lacks(german, "Issues Open Badges", "Keys")


def test_error_page_in_german(client: TestClient) -> None:
    english, german = _both(client, "/no-such-page", status=404)
    _compare(english, german)
    _has(english, "Page not found", "There is nothing at this address.", "Error 404")
    _has(german, "Seite nicht gefunden", "Unter dieser Adresse gibt es nichts.", "Fehler 404")
    _lacks(german, "Page not found", "Back to Skills Hub", "Browse the catalogue")
    # Accept-Language alone chooses German too.
    client.cookies.clear()
    by_header = client.get("/no-such-page", headers={**HTML, "accept-language": "de-AT, en;q=0.5"})
    assert "Seite nicht gefunden" in by_header.text


# --- the learner's pages -----------------------------------------------------------------------


def _claim_path(settings: Settings) -> str:
    link = _claim_link(_outbox(settings)[-1])
    return link.removeprefix("http://testserver")


def test_claim_and_learner_pages_in_german(
    client: TestClient, world: World, settings: Settings
) -> None:
    out = _issue(client, world)
    path = _claim_path(settings)
    english, german = _both(client, path)
    _compare(english, german)
    _has(english, "Claim your badge", "Claim my badge")
    _has(german, "Ihr Badge abholen", "Mein Badge abholen", "Gültig.")
    _lacks(german, "Claim your badge", "Claim my badge", "Claiming keeps")
    assert re.search(r"am \d{1,2}\. \w+ \d{4} an <strong>Ada Lovelace</strong> verliehen", german)
    client.get("/?lang=en")
    _claim(client, _claim_link(_outbox(settings)[-1]))

    manage = f"/credentials/{out['id']}/manage"
    english, german = _both(client, manage)
    _compare(english, german)
    _has(english, "Share settings", "Add to a wallet", "Review the course", "Download")
    _has(
        german,
        "Freigabe",
        "In eine Wallet aufnehmen",
        "Den Kurs bewerten",
        "Herunterladen",
        "Ihr Badge: " + world.mc.title,
    )
    _lacks(german, "Share settings", "Add to a wallet", "Review the course", "Sign out everywhere")
    # Why Europass would refuse it (worded by the export, with the provider's name), in German.
    _has(english, "Not available yet: Europass accepts only credentials sealed")
    _has(german, f"und {world.org.legal_name} hat noch keines eingerichtet")
    _lacks(german, "Not available yet")

    english, german = _both(client, f"{manage}/review")
    _compare(english, german)
    _has(english, "Your rating", "Publish my review")
    _has(german, "Ihre Bewertung", "Meine Bewertung veröffentlichen", "5 Sterne", "1 Stern")
    _lacks(german, "Your rating", "Publish my review", "stars")
    refused = client.post(
        f"{manage}/review?lang=de", data={"rating": "9"} | csrf_fields(client), headers=HTML
    )
    assert refused.status_code == 422
    _has(refused.text, "Wählen Sie eine Bewertung von 1 bis 5 Sternen.")
    _lacks(refused.text, "choose a rating")

    offer = client.post(f"{manage}/wallet?lang=de", data=csrf_fields(client), headers=HTML)
    assert offer.status_code == 200, offer.text[:500]
    _has(offer.text, "In Ihre Wallet aufnehmen", "Mit Ihrer Wallet scannen", "Technische Details")
    _lacks(offer.text, "Scan it with your wallet", "Add to your wallet", "Back to your badge")


def test_learner_error_pages_in_german(
    client: TestClient, world: World, settings: Settings
) -> None:
    out = _issue(client, world)
    path = _claim_path(settings)
    # Someone else's browser: the owner's page is closed to it.
    english, german = _both(client, f"/credentials/{out['id']}/manage", status=403)
    _compare(english, german)
    _has(english, "Open your claim link first")
    _has(german, "Öffnen Sie zuerst Ihren Abhol-Link", "Diese Seite ist für den Inhaber")
    _lacks(german, "Open your claim link first", "This page is for the badge's owner")
    # A spent claim link: the title and the domain's message, both in German.
    client.get("/?lang=en")
    _claim(client, _claim_link(_outbox(settings)[-1]))
    stranger = TestClient(client.app)
    english, german = _both(stranger, path, status=403)
    _compare(english, german)
    _has(english, "This badge was already claimed", "this claim link was already used")
    _has(german, "Dieses Badge wurde bereits abgeholt", "Dieser Abhol-Link wurde bereits")
    _lacks(german, "already claimed", "already used")
    # No public page.
    english, german = _both(stranger, f"/credentials/{out['id']}", status=404)
    _has(german, "Hier ist kein öffentliches Badge")
    _lacks(german, "No public badge here")
