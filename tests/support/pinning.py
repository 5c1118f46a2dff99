"""Pinned documents that confirm the keys third-party fixtures claim, as an operator would.

The 1EdTech fixtures and the spec examples name keys as `https://issuer#z6Mk…` fragments
or carry a JWT `jwk` header, with no controller document anywhere. Our verifier does not
take a key on trust from a fragment or a header (an indeterminate verdict), so these tests
pin, for each controller, a document listing the keys its credentials claim: exactly what
an operator who has confirmed them out of band would put in SKILLSHUB_PINNED_DOCUMENTS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from badges.baking import CredentialFormat, unbake
from badges.proofs.vc_jwt import credential_from_payload, decode_unverified
from badges.verifying import PinnedDocuments
from keys.did import DID_V1_CONTEXT, JWK_V1_CONTEXT, MULTIKEY_V1_CONTEXT
from keys.jwk import jwk_thumbprint, jwk_to_public_key, public_jwk
from keys.multikey import KeyFormatError, decode_public_key


def _documents(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        if "proof" in value:
            yield value
        for child in value.values():
            yield from _documents(child)
    elif isinstance(value, list):
        for child in value:
            yield from _documents(child)


def _proofs(document: Mapping[str, Any]) -> list[Any]:
    proof = document.get("proof")
    return proof if isinstance(proof, list) else [proof]


def claimed_methods(credentials: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """controller -> verification methods, from DI fragments and JWT jwk headers."""
    methods: dict[str, dict[str, dict[str, Any]]] = {}
    for credential in credentials:
        if isinstance(credential, str):
            header, payload = decode_unverified(credential)
            claims = credential_from_payload(payload).credential
            issuer = claims.get("issuer")
            issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
            if "jwk" in header and isinstance(issuer, str):
                key = jwk_to_public_key(header["jwk"])
                method_id = f"{issuer}#{jwk_thumbprint(key)}"
                methods.setdefault(issuer, {})[method_id] = {
                    "id": method_id,
                    "type": "JsonWebKey",
                    "controller": issuer,
                    "publicKeyJwk": public_jwk(key),
                }
            continue
        for document in _documents(credential):
            for proof in _proofs(document):
                method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
                if not isinstance(method, str) or "#" not in method:
                    continue
                controller, _, fragment = method.partition("#")
                if not controller.startswith(("https://", "did:web:")):
                    continue
                try:
                    decode_public_key(fragment)
                except KeyFormatError:
                    continue
                methods.setdefault(controller, {})[method] = {
                    "id": method,
                    "type": "Multikey",
                    "controller": controller,
                    "publicKeyMultibase": fragment,
                }
    return {controller: list(found.values()) for controller, found in methods.items()}


def read_credential(path: Path) -> Any:
    """A fixture as a JSON object or a compact JWS (unbaking images)."""
    data = path.read_bytes()
    if path.suffix in (".png", ".svg"):
        baked = unbake(data)
        assert baked is not None
        return baked.text if baked.format is CredentialFormat.JWS else json.loads(baked.text)
    if path.suffix == ".jwt":
        return data.decode().strip()
    return json.loads(data)


def pin(directory: Path, documents: Mapping[str, Any]) -> PinnedDocuments:
    """Write `documents` (key -> JSON object or text) and the map; load it as the app would."""
    directory.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for number, (key, document) in enumerate(documents.items()):
        name = f"doc{number}.json"
        text = document if isinstance(document, str) else json.dumps(document)
        (directory / name).write_text(text)
        mapping[key] = name
    (directory / "pinned.json").write_text(json.dumps(mapping))
    return PinnedDocuments.load(directory / "pinned.json")


def controller_documents(credentials: Iterable[Any]) -> dict[str, dict[str, Any]]:
    return {
        controller: {
            "@context": [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT, JWK_V1_CONTEXT],
            "id": controller,
            "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods],
        }
        for controller, methods in claimed_methods(credentials).items()
    }
