"""What a test client needs to send a form the way the app's own page does (skillshub.web.csrf)."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from skillshub.web import csrf
from tests.support.app import app_of


def csrf_fields(client: TestClient) -> dict[str, str]:
    """The hidden field of a page the app served to this client, the cookie set if missing."""
    nonce = client.cookies.get(csrf.COOKIE)
    if nonce is None:
        nonce = secrets.token_urlsafe(32)
        client.cookies.set(csrf.COOKIE, nonce)
    return {csrf.FIELD: csrf.token_for(app_of(client).state.master_key, nonce)}
