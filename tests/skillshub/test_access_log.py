"""`skillshub serve` keeps claim tokens out of the access log (a claim link is a credential)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from typer.testing import CliRunner

from badges.delivery import claim_url
from skillshub.cli import app
from skillshub.web.access_log import RedactTokens

SECRET = "s3cr3t-claim-token"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    logger = logging.getLogger("uvicorn.access")
    handler, filters, level = _Lines(), list(logger.filters), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.filters[:] = filters
    logger.setLevel(level)


def test_serve_blanks_the_claim_token_in_request_lines(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, access_lines: list[str]
) -> None:
    link = urlsplit(claim_url("http://hub.example", "0b6e1f3c", SECRET))
    path = f"{link.path}?{link.query}&lang=de"

    def fake_run(application: Any, **_: Any) -> None:
        # The same record uvicorn writes for each request.
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200
        )

    monkeypatch.setattr(uvicorn, "run", fake_run)
    env = {"SKILLSHUB_DATA_DIR": str(tmp_path / "data"), "SKILLSHUB_DATABASE_URL": db_url}
    assert CliRunner().invoke(app, ["init"], env=env).exit_code == 0
    served = CliRunner().invoke(app, ["serve"], env=env)
    assert served.exit_code == 0, served.output
    assert len(access_lines) == 1
    assert SECRET not in access_lines[0]
    assert "/claim?token=[redacted]&lang=de" in access_lines[0]
    installed = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, RedactTokens) for f in installed) == 1
