"""Credentials signed here with the project's proof modules and a fresh did:key: what a
conforming issuer (ours included) produces, for the verifier's round trips and tampering."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from badges.proofs import eddsa_rdfc_2022, vc_jwt
from keys.did import did_key_from_public_key, did_key_verification_method
from keys.signer import KeySigner, from_private_key

EMAIL = "ada.lovelace@example.org"
SALT = "pepper-7f3a"
ESCO_SKILL = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    @property
    def did(self) -> str:
        return did_key_from_public_key(self.private_key.public_key())

    @property
    def method(self) -> str:
        return did_key_verification_method(self.private_key.public_key())

    @property
    def signer(self) -> KeySigner:
        return from_private_key(self.private_key, verification_method=self.method, kid=self.method)

    @classmethod
    def ed25519(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def p256(cls) -> Signer:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def data_integrity(self, credential: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(self.private_key, Ed25519PrivateKey)
        return eddsa_rdfc_2022.create_proof(credential, signer=self.signer)

    def jwt(self, credential: dict[str, Any]) -> str:
        return vc_jwt.sign(credential, signer=self.signer)


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest()


def credential(
    issuer: str,
    *,
    name: str = "High-voltage battery maintenance",
    valid_from: str = "2025-01-01T00:00:00Z",
    valid_until: str | None = None,
    status: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0d3c2f0e-8a4b-4c1e-9d7a-2b3c4d5e6f70",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Volt Academy"},
        "validFrom": valid_from,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(EMAIL, SALT),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": SALT,
                }
            ],
            "achievement": {
                "id": "https://academy.example/micro-credentials/hv-battery",
                "type": ["Achievement"],
                "name": name,
                "description": "Maintains high-voltage battery systems safely.",
                "criteria": {"narrative": "Pass the practical assessment."},
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "maintain battery systems",
                        "targetUrl": ESCO_SKILL,
                        "targetFramework": "ESCO",
                    }
                ],
            },
        },
    }
    if valid_until is not None:
        document["validUntil"] = valid_until
    if status is not None:
        document["credentialStatus"] = status
    return document


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 51, 153)).save(out, format="PNG")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'
