"""did:key and did:web identifiers, and the documents that publish an issuer's keys.

Every issuer key is published as two verification methods, because DID Core §5.2.1 forbids
one method carrying the same key as both publicKeyMultibase and publicKeyJwk:

- `Multikey`, id `<controller>#<publicKeyMultibase>`, for Data Integrity proofs (the form
  vc-di-eddsa names). The 1EdTech validator takes the key straight from a `#z6Mk…` fragment
  and requires the part before `#` to equal the credential's issuer, so this id shape
  verifies there even without fetching a document; elsewhere it reads publicKeyMultibase
  only. Digital Bazaar's ed25519-multikey reads both methods (tests/keys/test_did.py).
- `JsonWebKey`, id `<controller>#<RFC 7638 thumbprint>`, for VC-JWT `kid`. The 1EdTech
  validator resolves a DID `kid` to that method's `publicKeyJwk`. It also requires the id
  to be listed in `assertionMethod`. openbadgeslib picks the method whose id equals `kid`
  and reads either form.

Both are listed in `assertionMethod` only: an issuer key signs credentials and is not meant
to authenticate as the DID.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from keys.jwk import jwk_thumbprint, public_jwk
from keys.multikey import KeyFormatError, MultikeyPublicKey, decode_public_key, encode_public_key

DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1_CONTEXT = "https://w3id.org/security/multikey/v1"
JWK_V1_CONTEXT = "https://w3id.org/security/jwk/v1"

_DID_KEY_PREFIX = "did:key:"
_DID_WEB_PREFIX = "did:web:"
# RFC 1123 host name labels; did:web has no room for anything else (no user info, no IP).
_PORT = re.compile(r"[0-9]{1,5}")  # ASCII: "²".isdigit() is True, and int() refuses it
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)


class DidError(ValueError):
    """A DID or DID URL is malformed or not of the expected method."""


@dataclass(frozen=True)
class PublicKeyInfo:
    """One published issuer key; its two verification method ids derive from the key."""

    public_key: MultikeyPublicKey

    @property
    def multibase(self) -> str:
        return encode_public_key(self.public_key)

    def multikey_id(self, controller: str) -> str:
        """The verification method for Data Integrity proofs (`proof.verificationMethod`)."""
        return f"{controller}#{self.multibase}"

    def jwk_id(self, controller: str) -> str:
        """The verification method for VC-JWT (`kid` header)."""
        return f"{controller}#{jwk_thumbprint(self.public_key)}"

    def verification_methods(self, controller: str) -> list[dict[str, Any]]:
        return [
            {
                "id": self.multikey_id(controller),
                "type": "Multikey",
                "controller": controller,
                "publicKeyMultibase": self.multibase,
            },
            {
                "id": self.jwk_id(controller),
                "type": "JsonWebKey",
                "controller": controller,
                "publicKeyJwk": public_jwk(self.public_key),
            },
        ]


# --- did:key ---------------------------------------------------------------------------


def did_key_from_public_key(key: MultikeyPublicKey) -> str:
    return _DID_KEY_PREFIX + encode_public_key(key)


def did_key_verification_method(key: MultikeyPublicKey) -> str:
    """`did:key:z…#z…`, the one verification method of a did:key."""
    multibase = encode_public_key(key)
    return f"{_DID_KEY_PREFIX}{multibase}#{multibase}"


def resolve_did_key(did_url: str) -> tuple[dict[str, Any], MultikeyPublicKey]:
    """The did:key document (did:key spec, Multikey form) and the public key.

    Accepts the DID or a DID URL whose fragment names the key itself; offline by nature.
    """
    if not isinstance(did_url, str) or not did_url.startswith(_DID_KEY_PREFIX):
        raise DidError("not a did:key")
    did, _, fragment = did_url.partition("#")
    multibase = did[len(_DID_KEY_PREFIX) :]
    if fragment and fragment != multibase:
        raise DidError("a did:key fragment must repeat the key's multibase value")
    try:
        public_key = decode_public_key(multibase)
    except KeyFormatError as exc:
        raise DidError(f"did:key does not hold a usable public key: {exc}") from None
    vm_id = f"{did}#{multibase}"
    document = {
        "@context": [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT],
        "id": did,
        "verificationMethod": [
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multibase,
            }
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
    }
    return document, public_key


# --- did:web ---------------------------------------------------------------------------


def did_web_from_url(url: str) -> str:
    """`https://host[:port][/path]` -> `did:web:host[%3Aport][:path…]` (did:web §3.2).

    The URL of the DID document itself (`…/did.json`, `/.well-known/did.json`) gives the same
    DID, so this inverts did_web_to_url. Messages never quote the URL (it may carry secrets).
    """
    if "@" in url:
        raise DidError("a did:web URL must not contain user info")
    try:
        parts = urlsplit(url)
    except ValueError:  # "https://[::1"
        raise DidError("the URL is malformed") from None
    if parts.scheme != "https":
        raise DidError("did:web needs an https URL")
    if parts.query or parts.fragment:
        raise DidError("a did:web URL has no query or fragment")
    try:
        port = parts.port
    except ValueError:
        raise DidError("the URL has an invalid port") from None
    host = _check_host(parts.hostname or "")
    path = parts.path
    if path == "/.well-known/did.json":
        path = ""
    elif path.endswith("/did.json"):
        path = path.removesuffix("/did.json")
        if not path:
            raise DidError("a did:web document at the root lives at /.well-known/did.json")
    path = path.rstrip("/")
    segments = [unquote(segment) for segment in path.split("/")[1:]] if path else []
    _check_segments(segments)
    authority = host if port is None else f"{host}%3A{port}"
    return ":".join([_DID_WEB_PREFIX + authority, *(quote(s, safe="") for s in segments)])


def did_web_to_url(did: str) -> str:
    """The https URL of the DID document for a did:web (fragment, if any, ignored)."""
    if not isinstance(did, str) or not did.startswith(_DID_WEB_PREFIX):
        raise DidError("not a did:web")
    method_specific = did.partition("#")[0][len(_DID_WEB_PREFIX) :]
    if "?" in method_specific or "/" in method_specific:
        raise DidError("a did:web has no path or query outside its colon-separated segments")
    authority, *encoded_segments = method_specific.split(":")
    host, _, port = unquote(authority).partition(":")
    host = _check_host(host)
    if port and (not _PORT.fullmatch(port) or not 0 < int(port) < 65536):
        raise DidError("did:web has an invalid port")
    segments = [unquote(segment) for segment in encoded_segments]
    _check_segments(segments)
    base = f"https://{host}" + (f":{port}" if port else "")
    if not segments:
        return f"{base}/.well-known/did.json"
    return base + "".join("/" + quote(segment, safe="") for segment in segments) + "/did.json"


def _check_host(host: str) -> str:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise DidError("did:web must not use an IP address (did:web §3.2)")
    labels = host.split(".")
    if not host or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise DidError("did:web needs a DNS host name")
    return host.lower()


def _check_segments(segments: Sequence[str]) -> None:
    # An empty, '.' or '..' segment would change which path the document is fetched from.
    for segment in segments:
        if segment in ("", ".", "..") or "/" in segment:
            raise DidError("did:web path segments must be non-empty names")


# --- documents -------------------------------------------------------------------------


def build_did_document(did: str, keys: Sequence[PublicKeyInfo]) -> dict[str, Any]:
    """The DID document for a did:web issuer, publishing every key in both forms.

    Keep the current signing key first: verifiers given no `kid` fall back to the first
    verification method (openbadgeslib does).
    """
    if not did.startswith("did:"):
        raise DidError("a DID document's id must be a DID")
    return _controller_document(did, keys)


def build_controller_document(controller_id: str, keys: Sequence[PublicKeyInfo]) -> dict[str, Any]:
    """The same document for an issuer identified by an https URL (a controlled identifier
    document). Its own context https://www.w3.org/ns/cid/v1 is not among the pinned
    contexts, so the DID v1 + Multikey + JWK contexts, which define the same terms, are used.
    """
    try:
        parts = urlsplit(controller_id)
    except ValueError:
        raise DidError("a controller document id must be an https URL") from None
    if parts.scheme != "https" or not parts.hostname or parts.fragment:
        raise DidError("a controller document id must be an https URL without a fragment")
    return _controller_document(controller_id, keys)


def _controller_document(controller: str, keys: Sequence[PublicKeyInfo]) -> dict[str, Any]:
    if not keys:
        raise DidError("a controller document needs at least one key")
    methods = [method for key in keys for method in key.verification_methods(controller)]
    ids = [method["id"] for method in methods]
    if len(set(ids)) != len(ids):
        raise DidError("the same key is listed twice")
    return {
        "@context": [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT, JWK_V1_CONTEXT],
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": ids,
    }
