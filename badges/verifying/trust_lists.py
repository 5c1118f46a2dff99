"""Trust lists: files of issuers an operator vouches for (`SKILLSHUB_TRUST_LISTS`).

Two formats are read (docs/trust-lists.md describes both):

- ours: {"name": "…", "issuers": [{"id", "legal_name", "country", "accreditation"?, "url"?}]}
- the Digital Credentials Consortium's DID-map registry (the registry.json files its
  issuer-registry-client loads): {"meta": {…}, "registry": {"did:…": {"name", "location"?,
  "url"?}}}; the list is named by `meta.name` when there is one, else by its file name.

Files are read once, at start-up; a file that cannot be read or does not fit a format stops
the start with a message naming the file and the entry. An issuer in several lists is taken
from the first (name the most authoritative list first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from badges.verifying.names import name_keys

MAX_FILE_BYTES = 20 * 1024 * 1024
_MAX_TEXT = 500
_COUNTRY = re.compile(r"[A-Z]{2}")


class TrustListError(ValueError):
    """A trust list file is unreadable or does not fit a format (an operator's mistake,
    reported at start-up as SKILLSHUB_TRUST_LISTS)."""

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class ListedIssuer:
    """An issuer a trust list vouches for."""

    id: str  # a DID or a URL: the credential's issuer id
    legal_name: str
    list_name: str
    country: str | None = None  # ISO 3166-1 alpha-2
    location: str | None = None  # free text (the DCC format has no country)
    accreditation: str | None = None
    url: str | None = None


def issuer_key(identifier: str) -> str:
    """How an issuer id is looked up: without a fragment, a URL without a trailing slash."""
    identifier = identifier.strip().partition("#")[0]
    return identifier.rstrip("/") if identifier.startswith(("https://", "http://")) else identifier


def _text(entry: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        need = "required" if required else "optional"
        raise TrustListError(f"{where}: {key!r} ({need}) must be text of 1 to {_MAX_TEXT} chars")
    return " ".join(value.split())


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith(("did:", "https://", "http://")):
        raise TrustListError(f"{where}: the issuer id must be a DID or an http(s) URL")
    if len(value) > _MAX_TEXT or any(c.isspace() for c in value):
        raise TrustListError(f"{where}: the issuer id is not a valid identifier")
    return issuer_key(value)


def _ours(document: Mapping[str, Any], source: str) -> Iterator[ListedIssuer]:
    name = _text(document, "name", source, required=True)
    assert name is not None
    entries = document.get("issuers")
    if not isinstance(entries, list):
        raise TrustListError(f"{source}: 'issuers' must be a list")
    for n, entry in enumerate(entries, start=1):
        where = f"{source}, issuer {n}"
        if not isinstance(entry, Mapping):
            raise TrustListError(f"{where}: each issuer must be an object")
        country = (_text(entry, "country", where, required=True) or "").upper()
        if not _COUNTRY.fullmatch(country):
            raise TrustListError(f"{where}: 'country' must be an ISO 3166-1 code such as DE")
        legal_name = _text(entry, "legal_name", where, required=True)
        assert legal_name is not None
        yield ListedIssuer(
            id=_identifier(entry.get("id"), where),
            legal_name=legal_name,
            list_name=name,
            country=country,
            accreditation=_text(entry, "accreditation", where),
            url=_text(entry, "url", where),
        )


def _dcc(document: Mapping[str, Any], source: str, path: Path) -> Iterator[ListedIssuer]:
    meta = document.get("meta")
    named = meta.get("name") if isinstance(meta, Mapping) else None
    name = named if isinstance(named, str) and named.strip() else path.stem
    registry = document.get("registry")
    if not isinstance(registry, Mapping):
        raise TrustListError(f"{source}: 'registry' must map DIDs to issuers")
    for did, entry in registry.items():
        where = f"{source}, {did[:80]}"
        if not isinstance(entry, Mapping):
            raise TrustListError(f"{where}: each issuer must be an object")
        legal_name = _text(entry, "name", where, required=True)
        assert legal_name is not None
        yield ListedIssuer(
            id=_identifier(did, where),
            legal_name=legal_name,
            list_name=f"{name} (Digital Credentials Consortium registry)",
            location=_text(entry, "location", where),
            url=_text(entry, "url", where),
        )


def read_trust_list(path: Path) -> list[ListedIssuer]:
    source = path.name
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TrustListError(f"{source}: over {MAX_FILE_BYTES} bytes")
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise TrustListError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TrustListError(f"{source}: not a JSON document ({exc})") from None
    if isinstance(document, Mapping) and "issuers" in document:
        return list(_ours(document, source))
    if isinstance(document, Mapping) and "registry" in document:
        return list(_dcc(document, source, path))
    raise TrustListError(
        f"{source}: neither a Skills Hub trust list ('name', 'issuers') nor a DCC registry "
        "('registry')"
    )


class TrustLists:
    """The configured lists, looked up by issuer id."""

    def __init__(self, issuers: Iterable[ListedIssuer] = ()) -> None:
        self._by_id: dict[str, ListedIssuer] = {}
        self._by_name: dict[str, list[ListedIssuer]] = {}
        for issuer in issuers:
            if self._by_id.setdefault(issuer.id, issuer) is issuer:
                for key in name_keys(issuer.legal_name):
                    self._by_name.setdefault(key, []).append(issuer)

    @classmethod
    def load(cls, paths: Iterable[Path]) -> TrustLists:
        return cls(issuer for path in paths for issuer in read_trust_list(path))

    def __len__(self) -> int:
        return len(self._by_id)

    def lookup(self, issuer_id: str | None) -> ListedIssuer | None:
        return self._by_id.get(issuer_key(issuer_id)) if issuer_id else None

    def issuers(self) -> Iterator[ListedIssuer]:
        return iter(self._by_id.values())

    def named(self, name: str) -> list[ListedIssuer]:
        """The listed issuers whose legal name `name` looks like (names.look_alike)."""
        found: dict[str, ListedIssuer] = {}
        for key in name_keys(name):
            found.update((issuer.id, issuer) for issuer in self._by_name.get(key, []))
        return list(found.values())
