"""Offline JSON-LD document loader over the pinned context documents.

Canonicalization resolves every ``@context`` a credential names. Fetching them at
run time would be an SSRF vector and would let a context host change what a signature
covers, so only the documents pinned in ``contexts/`` (see ``contexts/manifest.json``)
are served; any other URL is an :class:`UnknownContextError`, never a network fetch.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cachetools import LRUCache

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
CREDENTIALS_EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
CREDENTIALS_UNDEFINED_TERMS_V2 = "https://www.w3.org/ns/credentials/undefined-terms/v2"
BITSTRING_STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
ED25519_2020_V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
# The unversioned OB URL serves 3.0.0, which only works with VC DM 1.1.
OB_V3P0_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
OB_V3P0_CONTEXT_ALIAS = "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld"
OB_V3P0_CONTEXT_301 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
OB_V3P0_CONTEXT_302 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
OB_V3P0_CONTEXT_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
# Ours: the EU micro-credential elements OB 3.0 has no property for (issue 18). A fixed URL,
# not BASE_URL's, so that every deployment's signatures cover the same pinned bytes; the app
# serves them at the URL's path (/ns/eu-microcredential/v1), its JSON Schema likewise.
EU_MICROCREDENTIAL_V1 = "https://w3id.org/skillshub/ns/eu-microcredential/v1"
# Pinned here but written by this project: no official copy to compare with.
OWN_CONTEXTS = frozenset({EU_MICROCREDENTIAL_V1})

_CONTEXTS_PACKAGE = "openbadges_schemas.contexts"
# Resolved contexts per loader. The pinned set with all its scoped contexts takes
# under 100 entries; pyld's default (100, shared by every loader) would churn. The
# bound also caps what inline contexts of processed documents can pin in memory.
_RESOLVED_CONTEXT_CACHE_SIZE = 256


class UnknownContextError(ValueError):
    """A document names a JSON-LD context URL that is not pinned."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not pinned; remote contexts are never fetched"
        )
        self.url = url


@dataclass(frozen=True)
class PinnedContext:
    url: str
    file: str
    sha256: str
    source: str


def _read_manifest() -> dict[str, PinnedContext]:
    raw = resources.files(_CONTEXTS_PACKAGE).joinpath("manifest.json").read_bytes()
    entries = json.loads(raw)
    return {
        e["url"]: PinnedContext(
            url=e["url"], file=e["file"], sha256=e["sha256"], source=e["source"]
        )
        for e in entries
    }


PINNED_CONTEXTS: Mapping[str, PinnedContext] = _read_manifest()
PINNED_URLS: frozenset[str] = frozenset(PINNED_CONTEXTS)


def pinned_bytes(url: str) -> bytes:
    """The pinned document's bytes as the registry ships them, checked against the manifest."""
    entry = PINNED_CONTEXTS.get(url)
    if entry is None:
        raise UnknownContextError(url)
    data = resources.files(_CONTEXTS_PACKAGE).joinpath(entry.file).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise RuntimeError(f"pinned context {entry.file} does not match its manifest sha256")
    return data


@cache
def _parsed_pinned() -> Mapping[str, Any]:
    by_file: dict[str, Any] = {}
    documents: dict[str, Any] = {}
    for url, entry in PINNED_CONTEXTS.items():
        if entry.file not in by_file:
            by_file[entry.file] = json.loads(pinned_bytes(url))
        documents[url] = by_file[entry.file]
    return documents


class PinnedDocumentLoader:
    """A pyld document loader serving a fixed set of parsed documents.

    Each loader owns its resolved-context cache (``resolved_context_cache``), so a
    document served by one loader (e.g. a test-only extra) never leaks into another's
    results through pyld's process-wide cache.
    """

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self._documents = dict(documents)
        self.resolved_context_cache: LRUCache[Any, Any] = LRUCache(
            maxsize=_RESOLVED_CONTEXT_CACHE_SIZE
        )

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._documents)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            document = self._documents[url]
        except KeyError:
            raise UnknownContextError(url) from None
        # pyld rewrites relative @context URLs inside what it is given: hand out a copy.
        # tag "static" lets pyld keep the resolved context across operations.
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(document),
            "tag": "static",
        }


def make_loader(extra: Mapping[str, dict[str, Any]] | None = None) -> PinnedDocumentLoader:
    """A loader over the pinned set plus ``extra`` documents (URL -> parsed JSON).

    ``extra`` may not redefine a pinned URL with different content.
    """
    documents = dict(_parsed_pinned())
    for url, document in (extra or {}).items():
        if url in documents and documents[url] != document:
            raise ValueError(f"{url!r} is pinned; an extra document may not replace it")
        documents[url] = copy.deepcopy(document)
    return PinnedDocumentLoader(documents)


@cache
def default_loader() -> PinnedDocumentLoader:
    """The process-wide loader over the pinned set (its context cache is shared)."""
    return make_loader()
