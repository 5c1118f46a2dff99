"""What a verifier is handed, turned into a credential to check, within limits.

Input is attacker-controlled and arrives before any signature check, so each step is
bounded: total size, JSON nesting depth and node count (the node count also bounds the
blank nodes canonicalization will meet), duplicate JSON member names (two parsers could
read different values), and baked images through `badges.baking`'s own caps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badges.baking import BakingError, CredentialFormat, unbake_png, unbake_svg
from badges.proofs.vc_jwt import DuplicateMemberError, refuse_duplicates
from catalogue.errors import DomainError, PayloadTooLarge

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class MalformedInput(DomainError):
    code = "malformed_input"


class UnrecognisedInput(DomainError):
    code = "unrecognised_input"


class TooComplex(DomainError):
    code = "credential_too_complex"


@dataclass(frozen=True)
class Limits:
    max_input_bytes: int = 5 * 1024 * 1024
    max_json_depth: int = 64
    # Objects and arrays together; a rich credential has a few hundred.
    max_json_nodes: int = 5000
    # The work one verification may do (its endorsements and fetches included): a credential
    # carries one or two proofs and a few endorsements; each proof beyond one costs a
    # signature check and possibly a key fetch.
    budget_seconds: float = 5.0
    max_proofs: int = 8
    max_endorsements: int = 16
    max_fetches: int = 8


@dataclass(frozen=True)
class LoadedCredential:
    """A credential as JSON (embedded proof) or as a compact JWS, and what carried it."""

    container: str  # "json" | "jwt" | "png" | "svg"
    credential: dict[str, Any] | None = None
    token: str | None = None


def check_json_shape(value: Any, limits: Limits) -> None:
    """Refuse JSON nested deeper than the limit or with more objects/arrays than the limit,
    and strings that are not Unicode text."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            # JSON's "\ud800" escape gives a lone surrogate, which no UTF-8 encoder accepts;
            # "\u0000" a NUL, which PostgreSQL text cannot hold (lookups of ids and URLs).
            if found := _NOT_TEXT.search(item):
                what = "a NUL character" if found[0] == "\x00" else "a lone surrogate"
                raise MalformedInput(f"the JSON holds {what} (U+{ord(found[0]):04X})")
            continue
        if isinstance(item, Mapping):
            children: Any = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        nodes += 1
        if depth > limits.max_json_depth:
            raise TooComplex(f"the JSON is nested deeper than {limits.max_json_depth} levels")
        if nodes > limits.max_json_nodes:
            raise TooComplex(f"the JSON has more than {limits.max_json_nodes} objects and arrays")
        stack.extend((child, depth + 1) for child in children)


def parse_json(data: bytes | str, limits: Limits) -> Any:
    """Strict JSON: size-capped, no duplicate member names, depth- and node-capped."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > limits.max_input_bytes:
        raise PayloadTooLarge(f"the input is {size} bytes, over the {limits.max_input_bytes} limit")
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        value = json.loads(text, object_pairs_hook=refuse_duplicates)
    except DuplicateMemberError:
        raise MalformedInput("the JSON repeats a member name in one object") from None
    except RecursionError:
        raise TooComplex("the JSON is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedInput(f"the input is not valid JSON: {exc}") from None
    check_json_shape(value, limits)
    return value


def credential_object(value: Any, limits: Limits, *, shape_checked: bool = False) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnrecognisedInput("a credential must be a JSON object")
    if not shape_checked:  # parse_json checked it already: attacker input is walked once
        check_json_shape(value, limits)
    return value


def compact_jws(text: str) -> str | None:
    text = text.strip()
    return text if _COMPACT_JWS.fullmatch(text) else None


def load(data: bytes | str | Mapping[str, Any], limits: Limits) -> LoadedCredential:
    """Recognise a JSON credential, a compact JWS, or a baked PNG/SVG (bytes are sniffed)."""
    if isinstance(data, Mapping):
        return LoadedCredential("json", credential=credential_object(dict(data), limits))
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > limits.max_input_bytes:
        raise PayloadTooLarge(
            f"the input is {len(raw)} bytes, over the {limits.max_input_bytes} limit"
        )
    if raw.startswith(_PNG_SIGNATURE):
        return _from_image("png", raw, limits)
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return _from_image("svg", raw, limits)
    if head == b"{":
        parsed = parse_json(raw, limits)
        return LoadedCredential(
            "json", credential=credential_object(parsed, limits, shape_checked=True)
        )
    try:
        token = compact_jws(raw.decode("ascii"))
    except UnicodeDecodeError:
        token = None
    if token is None:
        raise UnrecognisedInput(
            "not a credential: expected JSON, a compact JWS, or a baked PNG or SVG image"
        )
    return LoadedCredential("jwt", token=token)


def _from_image(kind: str, raw: bytes, limits: Limits) -> LoadedCredential:
    reader = unbake_png if kind == "png" else unbake_svg
    try:
        baked = reader(raw, max_input_bytes=limits.max_input_bytes)
    except BakingError as exc:
        raise UnrecognisedInput(f"the {kind.upper()} image cannot be read: {exc}") from None
    if baked is None:
        raise UnrecognisedInput(f"the {kind.upper()} image carries no Open Badges credential")
    if baked.format is CredentialFormat.JWS:
        return LoadedCredential(kind, token=baked.text)
    parsed = parse_json(baked.text, limits)
    return LoadedCredential(kind, credential=credential_object(parsed, limits, shape_checked=True))
