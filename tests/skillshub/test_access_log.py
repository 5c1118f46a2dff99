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

from badges.sharing.delivery import claim_url
from skillshub.cli import app
from skillshub.web.access_log import RedactTokens, redact

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


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("/c/x/claim?token=abc", "/c/x/claim?token=[redacted]"),
        ("/c/x/claim?%74oken=abc", "/c/x/claim?%74oken=[redacted]"),
        ("/c/x/claim?%54%4F%4B%45%4E=abc", "/c/x/claim?%54%4F%4B%45%4E=[redacted]"),
        ("/c/x/claim?TOKEN=abc&lang=de", "/c/x/claim?TOKEN=[redacted]&lang=de"),
        (
            "/c/x/claim?token=a&lang=de&token=b",
            "/c/x/claim?token=[redacted]&lang=de&token=[redacted]",
        ),
        ("/c/x/claim?lang=de;token=abc", "/c/x/claim?lang=de;token=[redacted]"),
        ("/c/x/claim?token=a;b&x=1", "/c/x/claim?token=[redacted]&x=1"),
        ("/wallet?access_token=abc", "/wallet?access_token=[redacted]"),
        ("/offer?pre-authorized_code=abc", "/offer?pre-authorized_code=[redacted]"),
        # A claim link handed to the verifier: the secret is inside another parameter's value.
        (
            "/verify?url=https%3A%2F%2Fhub%2Fc%2Fx%2Fclaim%3Ftoken%3Dabc&lang=de",
            "/verify?url=[redacted]&lang=de",
        ),
        ("/search?q=token&mytoken=1&tokens=2", "/search?q=token&mytoken=1&tokens=2"),
        ("/c/x/claim?token", "/c/x/claim?token"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_redact_matches_decoded_names(logged: str, expected: str) -> None:
    assert redact(logged) == expected


def test_the_filter_redacts_the_path_argument() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s"',
        ("1.2.3.4:5", "GET", "/x?%74oken=abc"),
        None,
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == '1.2.3.4:5 - "GET /x?%74oken=[redacted]"'


def test_the_credential_offer_code_in_a_path_is_blanked() -> None:
    from badges.wallet.offers import offer_uri

    path = urlsplit(offer_uri("https://hub.example", SECRET)).path
    line = f'127.0.0.1:5000 - "GET {path}?lang=de HTTP/1.1" 200'
    assert SECRET not in redact(line)
    assert "/oid4vci/offers/[redacted]?lang=de" in redact(line)
