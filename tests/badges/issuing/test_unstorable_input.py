"""Values the database cannot store are bad input (422), never a server error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.world import World


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("get", "/credentials/%00abc", None),
        ("get", "/api/v1/jobs/%00", None),
        ("post", "/api/v1/credentials/%00/revoke", None),
        ("post", "/api/v1/claim-links", {"credential": "\x00"}),
        ("post", "/api/v1/gap", {"job_role": "\x00"}),
    ],
)
def test_nul_characters_are_refused_or_not_found(
    client: TestClient, world: World, db_url: str, method: str, path: str, json: dict | None
) -> None:
    response = client.request(method, path, json=json, headers=_auth(world))
    # SQLite stores NUL and finds nothing; PostgreSQL text cannot hold it. Body fields are
    # refused by their models on both.
    refused = json is not None or db_url.startswith("postgresql")
    expected = (422, "invalid_input") if refused else (404, "not_found")
    assert (response.status_code, response.json()["error"]["code"]) == expected, response.text


def test_nul_in_a_recipient_is_not_stored(client: TestClient, world: World, db_url: str) -> None:
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={
            "micro_credential": world.mc.slug,
            "name": "Ada",
            "email": "ada@example.org",
            "external_id": "x\x00y",
        },
        headers=_auth(world),
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == "external_id: holds a control character (U+0000)"
