"""Log lines: text or JSON (SKILLSHUB_LOG_FORMAT), each with the request id, none with a secret.

The request id lives in a context variable set by `skillshub.web.request_id`; background
tasks started by a request (claim e-mails, bulk jobs) run in a copy of its context, so their
lines carry it too.

Every line passes `scrub` on its way out, whatever logger wrote it: e-mail addresses are
masked ("a…@example.org"), API tokens (`shub_…`), bearer credentials and cookies blanked, secret
query parameters (claim tokens) blanked as in the access log. Code should not log such
things in the first place; this is the net under it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from skillshub.web.access_log import redact as redact_query

request_id: ContextVar[str] = ContextVar("skillshub_request_id", default="-")

_EMAIL = re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_API_TOKEN = re.compile(r"shub_[A-Za-z0-9_-]{20,}")
# A cookie's value after "Cookie: name=" or "set-cookie', b'name=" (a client library's DEBUG
# lines print headers): session and CSRF cookies are credentials.
_COOKIE = re.compile(r"(?i)(cookie[\s'\",:=b]{0,8}[A-Za-z0-9_.-]+=)[^;\s'\"]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Attributes every LogRecord has: the rest are `extra=` fields, kept in a JSON line.
# uvicorn's `color_message` repeats the message with terminal colours.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


def scrub(text: str) -> str:
    text = _API_TOKEN.sub("shub_[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    text = _COOKIE.sub(r"\1[redacted]", text)
    text = redact_query(text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}…@{m.group(2)}", text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = scrub(value) if isinstance(value, str) else _plain(value)
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | bool | None) else scrub(str(value))


def configure(level: str, fmt: str, stream: Any = None) -> logging.Handler:
    """The root logger's stream handler (replacing an earlier one); uvicorn's loggers propagate
    to it (`skillshub serve` runs uvicorn with `log_config=None`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler._skillshub = True  # type: ignore[attr-defined]  # marks ours, to replace on reconfiguring
    root = logging.getLogger()
    for old in list(root.handlers):
        # Ours and logging.basicConfig's go; others (a test's capture) stay.
        if getattr(old, "_skillshub", False) or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
