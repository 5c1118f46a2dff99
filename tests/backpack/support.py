"""Backpack test helpers: sign in through the e-mailed link, issue through the API."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from skillshub.settings import Settings
from tests.badges.sharing.test_learner import _outbox
from tests.support.csrf import csrf_fields
from tests.support.present import present
from tests.support.world import World

LINK = re.compile(r"http://testserver/backpack/sign-in/link\?token=\S+")


def issue(client: TestClient, world: World, email: str, name: str = "Ada Lovelace") -> str:
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": name, "email": email},
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def sign_in_links(settings: Settings) -> list[tuple[str, str]]:
    """(to, link) of every sign-in e-mail sent so far."""
    found = []
    for message in _outbox(settings):
        if "backpack" not in str(message["Subject"]):
            continue
        text = present(message.get_body(("plain",))).get_content()
        found.append((str(message["To"]), present(LINK.search(text))[0]))
    return found


def ask_link(client: TestClient, email: str):
    return client.post("/backpack/sign-in", data={"email": email} | csrf_fields(client))


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def sign_in(client: TestClient, settings: Settings, email: str) -> None:
    assert ask_link(client, email).status_code == 200
    to, link = sign_in_links(settings)[-1]
    assert email.lower() in to.lower()
    page = client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert page.status_code == 200 and "Sign in" in page.text
    done = client.post(
        "/backpack/sign-in/link",
        data={"token": token_of(link)} | csrf_fields(client),
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/backpack?notice=signed_in"
