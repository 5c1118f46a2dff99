"""Which public key may verify a proof: verification method resolution and its checks.

Sources, in order: did:key (offline, the key is the identifier); the deployment's own
database for its issuers' DIDs and anything under its BASE_URL (no HTTP round trip, and a
definitive answer: a method we do not publish is not ours); then, through the SSRF-safe
fetcher, operator-pinned documents and the network (did:web -> did.json, https controller
documents).

A resolved method must be listed in its controller document, controlled by that document's
subject, and authorised for `assertionMethod`. Whether the controller is the credential's
issuer is checked by the caller (`issuer_binding`), which knows the issuer.

Failures carry `indeterminate`: True when the answer could not be obtained (network, an
unsupported DID method), False when the key is known to be wrong.

`DatabaseDocuments` is also the verifier's local source (`fetching.LocalFirst`): anything a
verification would fetch from under BASE_URL (a credential, an issuer profile, a DID document,
a status list) is read from the database instead, whatever BASE_URL's scheme, so the hub
verifies its own links on http://127.0.0.1 as on its public https host. It never touches the
network: a path it does not know is a definitive "not here".
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from cachetools import TTLCache
from sqlmodel import Session, select

from badges.issuing import (
    Urls,
    did_document,
    find_credential,
    find_issuer_by_did,
    profile_document,
)
from badges.models import IssuedCredential, Issuer
from badges.verifying.fetching import (
    JSON_TYPES,
    DocumentFetcher,
    Fetched,
    FetchError,
)
from catalogue.errors import NotFound
from keys.did import DidError, did_web_to_url, resolve_did_key
from keys.jwk import JwkError, PublicKey, jwk_thumbprint, jwk_to_public_key
from keys.multikey import KeyFormatError, decode_public_key
from keys.store import public_key, published_keys

ASSERTION, AUTHENTICATION = "assertionMethod", "authentication"
DOCUMENT_CACHE_SECONDS = 300
_DOCUMENT_CACHE_SIZE = 1024
_ISSUER_DID_JSON = re.compile(r"/issuers/([a-z0-9-]+)/did\.json")
_ISSUER_PROFILE = re.compile(r"/issuers/([a-z0-9-]+)")
_CREDENTIAL = re.compile(r"/credentials/([0-9a-f-]{36})(?:/badge\.(png|svg))?")
_DEFAULT_PORTS = {"http": 80, "https": 443}
NOT_HERE = "this hub publishes no public credential or document at this address"

# (session, url) -> the served list credential (JSON text or compact JWS), or None.
# badges.status.lists.local_status_list fits once its base_url is bound.
LocalStatusLookup = Callable[[Session, str], str | None]
# (session, credential, "png" | "svg") -> the badge image with the credential baked in, as
# /credentials/{id}/badge.png serves it (badges.sharing.images.baked, which sits above us).
BakedImageLookup = Callable[[Session, IssuedCredential, str], bytes]


def path_under(base_url: str | None, url: str) -> str | None:
    """The path of `url` below `base_url` ("/credentials/…"), or None when it is not ours.

    Host names compare without case; http and https count as one (a claim on
    http://hub.example is a claim on https://hub.example); an explicit port must match
    (a missing one is its scheme's default). Query and fragment are dropped."""
    if not base_url:
        return None
    try:
        base, other = urlsplit(base_url), urlsplit(url.strip())
        base_port, other_port = base.port, other.port
    except ValueError:
        return None
    if other.scheme.lower() not in _DEFAULT_PORTS or not other.hostname:
        return None
    if other.hostname != base.hostname or other.username or other.password:
        return None
    if (base_port, other_port) != (None, None):
        ours = base_port or _DEFAULT_PORTS[base.scheme]
        theirs = other_port or _DEFAULT_PORTS[other.scheme.lower()]
        if ours != theirs:
            return None
    prefix = base.path.rstrip("/")
    if not other.path.startswith(prefix + "/"):
        return None
    return other.path[len(prefix) :]


class KeyResolutionError(Exception):
    def __init__(self, message: str, *, indeterminate: bool) -> None:
        super().__init__(message)
        self.message = message
        self.indeterminate = indeterminate


@dataclass(frozen=True)
class ResolvedKey:
    public_key: PublicKey
    method_id: str
    controller: str
    source: str  # "did:key" | "this deployment" | "pinned document" | "network"


class LocalDocuments(Protocol):
    """Documents this deployment answers for itself, from its database."""

    def owns(self, identifier: str) -> bool:
        """True when `identifier` is ours: a missing document is then a definitive no."""
        ...

    def controller_document(self, identifier: str) -> dict[str, Any] | None: ...

    def status_list(self, url: str) -> str | None: ...

    def vouches(self, issuer_id: str, key: PublicKey) -> bool:
        """True when `issuer_id` is one of our issuers and `key` one of its keys."""
        ...


@dataclass
class DatabaseDocuments:
    """Our issuers' DID documents and status lists, and whatever else a verification would
    fetch from under BASE_URL, read from the database."""

    session: Session
    base_url: str
    status_lookup: LocalStatusLookup | None = None
    baked_image: BakedImageLookup | None = None

    def owns(self, identifier: str) -> bool:
        if identifier.startswith("did:web:"):
            try:
                identifier = did_web_to_url(identifier)
            except DidError:
                return False
        return path_under(self.base_url, identifier) is not None

    def controller_document(self, identifier: str) -> dict[str, Any] | None:
        issuer: Issuer | None
        if identifier.startswith("did:"):
            issuer = find_issuer_by_did(self.session, identifier)
        else:
            match = _ISSUER_DID_JSON.fullmatch(path_under(self.base_url, identifier) or "")
            if match is None:
                return None
            issuer = self._issuer(match[1])
        if issuer is None:
            return None
        try:
            return did_document(self.session, issuer)
        except NotFound:  # a did:key issuer has no served document; did:key resolves offline
            return None

    def status_list(self, url: str) -> str | None:
        path = path_under(self.base_url, url)
        if self.status_lookup is None or path is None:
            return None
        return self.status_lookup(self.session, self.base_url + path)

    def fetch(self, url: str, *, accept: Iterable[str]) -> Fetched:
        """What GET `url` would answer, for a URL under BASE_URL (`owns`): a public
        credential (signed text or baked image), an issuer profile, a DID document or a
        status list. Anything else is a FetchError: this hub has nothing else to verify."""
        path = path_under(self.base_url, url) or ""
        accepted = frozenset(accept)
        found = self._credential(path, accepted) or self._issuer_document(path, accepted)
        if found is None and accepted & JSON_TYPES:
            text = self.status_list(url)
            found = (text.encode(), "application/vc+ld+json") if text is not None else None
        if found is None:
            raise FetchError(NOT_HERE)
        body, media_type = found
        return Fetched(url, media_type, body, "local")

    def _issuer(self, slug: str) -> Issuer | None:
        return self.session.exec(select(Issuer).where(Issuer.slug == slug)).first()

    def _credential(self, path: str, accept: frozenset[str]) -> tuple[bytes, str] | None:
        match = _CREDENTIAL.fullmatch(path)
        if match is None:
            return None
        record = find_credential(self.session, match[1])
        if record is None or not record.public:  # what the page serves to anyone
            return None
        if match[2] is not None:
            media_type = "image/png" if match[2] == "png" else "image/svg+xml"
            if self.baked_image is None or media_type not in accept:
                return None
            return self.baked_image(self.session, record, match[2]), media_type
        media_type = "application/jwt" if record.format == "jwt" else "application/ld+json"
        if media_type not in accept:
            return None
        return record.signed.encode(), media_type

    def _issuer_document(self, path: str, accept: frozenset[str]) -> tuple[bytes, str] | None:
        if not accept & JSON_TYPES:
            return None
        did_json = _ISSUER_DID_JSON.fullmatch(path)
        profile = _ISSUER_PROFILE.fullmatch(path)
        slug = did_json[1] if did_json else profile[1] if profile else None
        issuer = self._issuer(slug) if slug else None
        if issuer is None:
            return None
        if did_json:
            try:
                document = did_document(self.session, issuer)
            except NotFound:
                return None
        else:
            document = profile_document(self.session, issuer, Urls(self.base_url))
        return json.dumps(document).encode(), "application/json"

    def vouches(self, issuer_id: str, key: PublicKey) -> bool:
        issuer = find_issuer_by_did(self.session, issuer_id)
        if issuer is None or issuer.id is None:
            return False
        return any(same_key(public_key(k), key) for k in published_keys(self.session, issuer.id))


class DocumentCache:
    """Network-fetched controller documents, kept a few minutes (thread-safe)."""

    def __init__(self, seconds: float = DOCUMENT_CACHE_SECONDS) -> None:
        self._cache: TTLCache = TTLCache(maxsize=_DOCUMENT_CACHE_SIZE, ttl=seconds)
        self._lock = threading.Lock()

    def get(self, url: str) -> dict[str, Any] | None:
        with self._lock:
            return self._cache.get(url)

    def put(self, url: str, document: dict[str, Any]) -> None:
        with self._lock:
            self._cache[url] = document


class KeyResolver:
    def __init__(
        self,
        fetcher: DocumentFetcher,
        *,
        local: LocalDocuments | None = None,
        cache: DocumentCache | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.local = local
        self.cache = cache or DocumentCache()

    # --- documents -------------------------------------------------------------------

    def controller_document(self, controller: str) -> tuple[dict[str, Any], str]:
        """(document, source) for a did:web or an https controller identifier."""
        if self.local is not None and self.local.owns(controller):
            document = self.local.controller_document(controller)
            if document is None:
                raise KeyResolutionError(
                    f"{controller} is not an identifier this deployment publishes",
                    indeterminate=False,
                )
            return document, "this deployment"
        if controller.startswith("did:web:"):
            try:
                url = did_web_to_url(controller)
            except DidError as exc:
                raise KeyResolutionError(str(exc), indeterminate=False) from None
            pinned = self.fetcher.pinned_document(controller)
            if pinned is not None:
                return self._parse(pinned, controller, controller), "pinned document"
        elif controller.startswith(("https://", "http://")):
            url = controller
        else:
            raise KeyResolutionError(
                f"cannot resolve {controller!r}: not a did:web or https identifier",
                indeterminate=True,
            )
        cached = self.cache.get(url)
        if cached is not None:
            return cached, "network"
        try:
            fetched = self.fetcher.fetch(url, accept=JSON_TYPES)
        except FetchError as exc:
            raise KeyResolutionError(
                f"the document of {controller} could not be fetched: {exc.message}",
                indeterminate=True,
            ) from None
        document = self._parse(fetched.body, controller, url)
        source = "pinned document" if fetched.source == "pinned" else "network"
        if fetched.source == "network":
            self.cache.put(url, document)
        return document, source

    @staticmethod
    def _parse(body: bytes, controller: str, where: str) -> dict[str, Any]:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise KeyResolutionError(
                f"the document at {where} is not JSON", indeterminate=False
            ) from None
        if not isinstance(document, dict):
            raise KeyResolutionError(
                f"the document at {where} is not an object", indeterminate=False
            )
        if document.get("id") != controller:
            raise KeyResolutionError(
                f"the document at {where} describes {document.get('id')!r}, not {controller}",
                indeterminate=False,
            )
        return document

    # --- methods ---------------------------------------------------------------------

    def resolve_method(self, method_id: Any, relationship: str = ASSERTION) -> ResolvedKey:
        """The key of a verification method (a DI `verificationMethod` or a JWT `kid`),
        which its controller must authorise for `relationship` (assertionMethod for an
        issuer's credential, authentication for a holder's presentation)."""
        if not isinstance(method_id, str) or not method_id:
            raise KeyResolutionError("the verification method is missing", indeterminate=False)
        scheme, colon, rest = method_id.partition(":")
        if not colon or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise KeyResolutionError(
                f"the verification method {method_id!r} is not a URI (no scheme)",
                indeterminate=False,
            )
        if method_id.startswith("did:key:"):
            try:
                _document, key = resolve_did_key(method_id)
            except DidError as exc:
                raise KeyResolutionError(str(exc), indeterminate=False) from None
            did = method_id.partition("#")[0]
            return ResolvedKey(key, f"{did}#{did[len('did:key:') :]}", did, "did:key")
        if scheme == "did":
            did_method = rest.partition(":")[0]
            if did_method == "example":
                raise KeyResolutionError(
                    "did:example is reserved for documentation and names no key",
                    indeterminate=False,
                )
            if did_method != "web":
                raise KeyResolutionError(
                    f"DID method did:{did_method} is not supported by this verifier",
                    indeterminate=True,
                )
        elif scheme not in ("https", "http"):
            raise KeyResolutionError(
                f"the verification method must be a DID URL or an https URL, not {scheme}:",
                indeterminate=False,
            )
        controller = method_id.partition("#")[0]
        document, source = self.controller_document(controller)
        method = find_method(document, method_id)
        if method is None:
            raise KeyResolutionError(
                f"{method_id} is not listed in the document of {controller}",
                indeterminate=False,
            )
        if method.get("controller") != controller:
            raise KeyResolutionError(
                f"{method_id} is controlled by {method.get('controller')!r}, not {controller}",
                indeterminate=False,
            )
        if not authorises(document, relationship, method_id):
            raise KeyResolutionError(
                f"{method_id} is not listed under {relationship} of {controller}",
                indeterminate=False,
            )
        return ResolvedKey(key_of(method), method_id, controller, source)

    def vouches(self, issuer_id: str | None, key: ResolvedKey) -> bool:
        """Whether this deployment's database says the key is the issuer's: how a did:key
        issuer's ES256 key (a did:key of its own) is tied to it here."""
        return (
            self.local is not None
            and issuer_id is not None
            and self.local.vouches(issuer_id, key.public_key)
        )

    def issuer_keys(self, issuer_id: Any) -> list[ResolvedKey]:
        """Every assertionMethod key the issuer publishes (for a JWT without a usable kid)."""
        if not isinstance(issuer_id, str):
            raise KeyResolutionError("the credential has no issuer id", indeterminate=False)
        if issuer_id.startswith("did:key:"):
            return [self.resolve_method(issuer_id)]
        if not issuer_id.startswith(("did:web:", "https://", "http://")):
            raise KeyResolutionError(
                f"the issuer {issuer_id!r} is not resolvable to published keys",
                indeterminate=True,
            )
        document, source = self.controller_document(issuer_id)
        keys = []
        for method in _methods(document):
            method_id = _absolute(document, method.get("id"))
            if (
                method_id
                and method.get("controller") == issuer_id
                and authorises(document, "assertionMethod", method_id)
            ):
                try:
                    keys.append(ResolvedKey(key_of(method), method_id, issuer_id, source))
                except KeyResolutionError:
                    continue
        return keys


# --- controller document helpers ------------------------------------------------------------


def _absolute(document: dict[str, Any], method_id: Any) -> str | None:
    if not isinstance(method_id, str):
        return None
    return f"{document.get('id')}{method_id}" if method_id.startswith("#") else method_id


def _methods(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for relationship in ("verificationMethod", ASSERTION, AUTHENTICATION):
        entries = document.get(relationship)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                yield entry


def find_method(document: dict[str, Any], method_id: str) -> dict[str, Any] | None:
    for method in _methods(document):
        if _absolute(document, method.get("id")) == method_id:
            return method
    return None


def authorises(document: dict[str, Any], relationship: str, method_id: str) -> bool:
    entries = document.get(relationship)
    for entry in entries if isinstance(entries, list) else []:
        reference = entry.get("id") if isinstance(entry, dict) else entry
        if _absolute(document, reference) == method_id:
            return True
    return False


def key_of(method: dict[str, Any]) -> PublicKey:
    """The public key of a Multikey / Ed25519VerificationKey2020 / JsonWebKey method."""
    multibase, jwk = method.get("publicKeyMultibase"), method.get("publicKeyJwk")
    try:
        if multibase is not None and jwk is None and isinstance(multibase, str):
            return decode_public_key(multibase)
        if jwk is not None and multibase is None:
            return jwk_to_public_key(jwk)
    except (KeyFormatError, JwkError, ValueError) as exc:
        raise KeyResolutionError(
            f"unusable key in {method.get('id')}: {exc}", indeterminate=False
        ) from None
    raise KeyResolutionError(
        f"{method.get('id')} must carry exactly one of publicKeyMultibase and publicKeyJwk",
        indeterminate=False,
    )


def same_key(a: PublicKey, b: PublicKey) -> bool:
    try:
        return jwk_thumbprint(a) == jwk_thumbprint(b)
    except (JwkError, TypeError):
        return False


def dereferenceable(identifier: Any) -> bool:
    """An issuer id that could name published keys (a DID or a web URL)."""
    if not isinstance(identifier, str):
        return False
    try:
        scheme = urlsplit(identifier).scheme
    except ValueError:  # "https://[::1": urlsplit raises on a malformed IPv6 host
        return False
    return identifier.startswith("did:") or scheme in ("https", "http")
