"""The app behind a TestClient, as the FastAPI it is (TestClient types it as any ASGI app)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient


def app_of(client: TestClient) -> FastAPI:
    assert isinstance(client.app, FastAPI), client.app
    return client.app
