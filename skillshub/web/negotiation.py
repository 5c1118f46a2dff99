"""Content negotiation, the one Accept-header parser of the web layer (RFC 9110 §12.5.1):
q-values, the most specific matching range, wildcards. A malformed header never fails: a part
that is not a media range matches nothing, an unreadable q-value counts as 0 (not acceptable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.requests import Request

# JSON as the API answers it; every one of these counts as "JSON" against HTML.
JSON_TYPES = ("application/json", "application/ld+json", "application/vc+ld+json")
# Bounds what one header may cost: a browser sends a handful of ranges.
_MAX_RANGES = 64


@dataclass(frozen=True)
class MediaRange:
    media: str  # lower case, parameters other than q dropped: "text/html", "text/*", "*/*"
    quality: float
    order: int  # position in the header, for ties


@dataclass(frozen=True, order=True)
class Match:
    """How well a header accepts one media type; compares by quality, then earliness."""

    quality: float
    earliness: int  # minus the matching range's position: an earlier range ranks higher


_NO_MATCH = Match(0.0, -_MAX_RANGES)


def _q(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    # "nan", "inf" and out-of-range values are not q-values: not acceptable, never an error.
    return quality if math.isfinite(quality) and 0.0 <= quality <= 1.0 else 0.0


def parse_accept(accept: str) -> list[MediaRange]:
    ranges = []
    for order, part in enumerate(accept.split(",")[:_MAX_RANGES]):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                quality = _q(value.strip())
        if media:
            ranges.append(MediaRange(media.lower(), quality, order))
    return ranges


def match(media_type: str, ranges: Sequence[MediaRange]) -> Match:
    """The most specific range matching `media_type` (type/subtype, then type/*, then */*); of
    equally specific ones, the highest quality."""
    major = media_type.split("/")[0]
    specificities = {media_type: 2, f"{major}/*": 1, "*/*": 0}
    best: tuple[int, Match] | None = None
    for media_range in ranges:
        specificity = specificities.get(media_range.media)
        if specificity is None:
            continue
        found = (specificity, Match(media_range.quality, -media_range.order))
        if best is None or found[0] > best[0] or (found[0] == best[0] and found[1] > best[1]):
            best = found
    return best[1] if best is not None else _NO_MATCH


def _preferred(ranges: Sequence[MediaRange], offers: Sequence[str]) -> tuple[float, str | None]:
    scored = [(match(offer, ranges).quality, -i, offer) for i, offer in enumerate(offers)]
    quality, _, offer = max(scored, default=(0.0, 0, None))
    return (quality, offer) if quality > 0 else (0.0, None)


def preferred(accept: str, offers: Sequence[str]) -> str | None:
    """The offer the header ranks highest (ties: the first offer); the first offer when there
    is no header; None when the header accepts none of them."""
    if not accept.strip():
        return offers[0] if offers else None
    return _preferred(parse_accept(accept), offers)[1]


def preferred_kind(
    accept: str, offers: Mapping[str, Sequence[str]], native: str
) -> tuple[str, str] | None:
    """(kind, media type): `offers` maps a kind (e.g. html, json, jwt) to its media types in
    order of preference; `native` wins ties between kinds. None when nothing is acceptable."""
    if not accept.strip():
        return native, offers[native][0]
    ranges = parse_accept(accept)
    best: dict[str, tuple[float, str]] = {}
    for kind, media_types in offers.items():
        quality, media_type = _preferred(ranges, media_types)
        if media_type is not None:
            best[kind] = (quality, media_type)
    if not best:
        return None
    ranking = [native, *(k for k in offers if k != native)]
    kind = max(best, key=lambda k: (best[k][0], -ranking.index(k)))
    return kind, best[kind][1]


def prefers_html(accept: str) -> bool:
    """text/html preferred over JSON: a higher q-value, or the same one given earlier (a bare
    */* ranks both alike, and the API answers JSON)."""
    ranges = parse_accept(accept)
    html = match("text/html", ranges)
    json = max(match(media, ranges) for media in JSON_TYPES)
    return html.quality > 0 and html > json


def wants_html(request: Request) -> bool:
    """True when the client (a browser) asks for a page rather than JSON."""
    return prefers_html(request.headers.get("accept", ""))
