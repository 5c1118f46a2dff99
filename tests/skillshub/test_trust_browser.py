"""The verify page as an employer sees it, in headless Chromium, in English and German: the
badge page's Verify button on an http BASE_URL (`make run`), a registered provider's badge,
the look-alike, and nothing technical (DIDs, ISO timestamps, list indexes) before the verdict."""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from badges import issuing
from badges.sharing.page import set_public
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.own import Signer
from tests.support.world import World, make_world

pytestmark = pytest.mark.browser

LEGAL_NAME = "VoltAcademy Batterietechnik GmbH"
TECHNICAL = [
    re.compile(r"did:[a-z]+:"),
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    re.compile(r"\bindex\b", re.I),
    re.compile(r"urn:uuid:|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"),
    re.compile(r"emailAddress|identityHash"),
]
WORDS = {
    "en": {
        "valid": "Valid",
        "registered": f"Issued by {LEGAL_NAME}, a registered provider, to Ada Lovelace on",
        "invalid": "Not valid",
        "imitated": f"pretends to come from {LEGAL_NAME}",
        "button": "Verify this badge",
    },
    "de": {
        "valid": "Gültig",
        "registered": (
            f"Ausgestellt von {LEGAL_NAME}, einem registrierten Anbieter, an Ada Lovelace am"
        ),
        "invalid": "Nicht gültig",
        "imitated": f"gibt vor, von {LEGAL_NAME} zu stammen",
        "button": "Dieses Badge prüfen",
    },
}


@pytest.fixture
def port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def live_app(settings: Settings, engine: Engine, base_url: str) -> FastAPI:
    """As `make run` serves it: BASE_URL is the plain-http local address (no allowance for
    http fetching: own links are read from the database)."""
    return create_app(settings.model_copy(update={"base_url": base_url}), engine=engine)


@pytest.fixture
def live_server(live_app: FastAPI, port: int, base_url: str) -> Iterator[str]:
    config = uvicorn.Config(live_app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def badge(session: Session, master_key: str, base_url: str) -> str:
    world: World = make_world(session, master_key)
    world.org.legal_name = LEGAL_NAME
    session.add(world.org)
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Ada Lovelace", email="ada@example.org"),
        base_url=base_url,
    )
    set_public(session, record, True)
    session.commit()
    return record.uuid


def _page_in(chromium: Any, live_server: str, language: str) -> Any:
    context = chromium.new_context(
        base_url=live_server, locale="de-DE" if language == "de" else "en-GB"
    )
    return context.new_page()


def _nothing_technical_up_to_the_verdict(page: Any) -> str:
    main = page.inner_text("main")
    verdict = page.inner_text("#verdict")
    upto = main[: main.index(verdict) + len(verdict)]
    for pattern in TECHNICAL:
        assert not pattern.search(upto), (pattern.pattern, upto)
    return verdict


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_badge_pages_verify_button_says_who_issued_it(
    chromium: Any, live_server: str, badge: str, language: str
) -> None:
    words = WORDS[language]
    page = _page_in(chromium, live_server, language)
    try:
        page.goto(f"/credentials/{badge}")
        page.click(f"text={words['button']}")
        page.wait_for_selector("#verdict")
        verdict = _nothing_technical_up_to_the_verdict(page)
        assert verdict.lstrip("✔ ").startswith(words["valid"])
        assert words["registered"] in verdict
        assert page.get_attribute("html", "lang") == language
        # The specialists' details are there, folded: the DID is not shown until opened.
        assert not page.is_visible("#technical code.id")
        page.click("#technical summary")
        assert page.inner_text("#technical code.id").startswith("did:key:")
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_look_alike_is_refused_naming_the_organisation(
    chromium: Any, live_server: str, badge: str, language: str
) -> None:
    words = WORDS[language]
    page = _page_in(chromium, live_server, language)
    try:
        genuine = page.request.get(
            f"/credentials/{badge}", headers={"accept": "application/ld+json"}
        ).json()
        forged = copy.deepcopy(genuine)
        forged.pop("proof")
        forged.pop("credentialStatus")
        signer = Signer.ed25519()
        forged["issuer"]["id"] = signer.did
        forged["credentialSubject"]["identifier"][1]["identityHash"] = "Mallory"
        page.goto("/verify")
        page.fill("#credential", json.dumps(signer.data_integrity(forged)))
        page.click("form.verify-form button[type=submit]")
        page.wait_for_selector("#verdict")
        verdict = _nothing_technical_up_to_the_verdict(page)
        assert verdict.lstrip("✘ ").startswith(words["invalid"])
        assert words["imitated"] in verdict
    finally:
        page.context.close()


def test_the_switch_changes_the_language(chromium: Any, live_server: str) -> None:
    page = _page_in(chromium, live_server, "en")
    try:
        page.goto("/verify")
        assert page.inner_text("h1") == "Verify a badge"
        page.click("text=Deutsch")
        assert page.inner_text("h1") == "Badge prüfen"
        page.goto("/verify")  # remembered
        assert page.inner_text("h1") == "Badge prüfen"
    finally:
        page.context.close()
