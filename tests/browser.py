"""Browser tests: a real uvicorn server of the app on a free localhost port, in a thread, and
a headless Chromium page driven by Playwright (the Debian chromium, never a downloaded one).

Use: the fixtures `browser_page`, `chromium` and `live_server` (tests/conftest.py loads this
module as a plugin, so one Chromium serves the whole session), and
define a `live_app` fixture for a custom app (the default serves the test settings).
Tests skip with the reason when /usr/bin/chromium is absent; mark them `@pytest.mark.browser`.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from skillshub.settings import Settings

if TYPE_CHECKING:  # imported where used: a run without browser tests never loads it
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_app(settings: Settings, engine: Engine) -> FastAPI:
    from skillshub.web.app import create_app

    return create_app(settings, engine=engine)


@pytest.fixture
def live_server(live_app: FastAPI) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(live_app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Browser, live_server: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=live_server)
    page = context.new_page()
    yield page
    context.close()
