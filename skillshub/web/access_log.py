"""The access log keeps no secret: a claim link's `token` is a credential, its value is blanked."""

from __future__ import annotations

import logging
import re

# A `token` query parameter (the claim link's), wherever it stands in the query string.
_TOKEN_PARAM = re.compile(r"(?<=[?&])(token=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN_PARAM.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Blanks token values in uvicorn's access records (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install(logger_name: str = "uvicorn.access") -> None:
    """Once per process, on the logger uvicorn writes request lines to."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
