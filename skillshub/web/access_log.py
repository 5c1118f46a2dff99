"""The access log keeps no secret: a claim link's `token` (and any secret-bearing query parameter)
is blanked, its name matched as the server decodes it; so is the pre-authorized code that a
credential offer URI (`/oid4vci/offers/{code}`) carries in its path."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

# Query parameters whose value is a secret, by their decoded, lower-cased name.
SECRET_PARAMS = frozenset({"token", "access_token", "pre-authorized_code"})
# A query string runs from `?` to the end of the path (uvicorn logs the raw path and query).
_QUERY = re.compile(r"\?([^\s#]*)")
# Paths whose last segment is a secret: the credential offer by reference (badges.wallet.offers).
_SECRET_PATH = re.compile(r"(/oid4vci/offers/)[^\s?#/]+")
# A value may itself be a link with a query (`/verify?url=…claim%3Ftoken%3D…`); so deep, no more.
_MAX_DEPTH = 3


def _holds_secret(query: str, depth: int = 0) -> bool:
    if depth >= _MAX_DEPTH:
        return "?" in query  # give up on nesting this deep: blank rather than leak
    for name, value in parse_qsl(query, keep_blank_values=True, separator="&"):
        if name.strip().lower() in SECRET_PARAMS:
            return True
        nested = value.partition("?")[2].replace(";", "&")
        if nested and _holds_secret(nested, depth + 1):
            return True
    return False


def _redact_chunk(chunk: str) -> str:
    """One `&`-separated chunk. `;` splits it too (some servers and proxies split on it); a
    secret found there is blanked up to the next `&`, which a server splitting on `&` alone
    reads as part of its value."""
    parts = chunk.split(";")
    for i, part in enumerate(parts):
        # Names are compared decoded (parse_qsl), so `%74oken=` or `TOKEN=` is `token` too.
        if "=" in part and _holds_secret(part):
            return ";".join([*parts[:i], part.partition("=")[0] + "=[redacted]"])
    return chunk


def _redact_query(match: re.Match[str]) -> str:
    return "?" + "&".join(_redact_chunk(chunk) for chunk in match.group(1).split("&"))


def redact(text: str) -> str:
    return _QUERY.sub(_redact_query, _SECRET_PATH.sub(r"\1[redacted]", text))


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
