"""A minimal wallet for the Python tests of the OpenID4VCI endpoints: holder keys and key
proofs signed with `cryptography` (the independent wallet is the npm oracle in tests/interop)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges.proofs import vc_jwt
from keys.did import did_key_from_public_key
from keys.jwk import public_jwk
from keys.multikey import MultikeyPublicKey, encode_public_key
from keys.signer import KeySigner

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@dataclass
class Holder:
    signer: KeySigner

    @classmethod
    def ed25519(cls) -> Holder:
        return cls(KeySigner(Ed25519PrivateKey.generate(), "EdDSA", "", None))

    @classmethod
    def p256(cls) -> Holder:
        return cls(KeySigner(ec.generate_private_key(ec.SECP256R1()), "ES256", "", None))

    @property
    def public_key(self) -> MultikeyPublicKey:
        key = self.signer.public_key
        assert isinstance(key, MultikeyPublicKey)  # a holder has an Ed25519 or a P-256 key
        return key

    @property
    def did(self) -> str:
        return did_key_from_public_key(self.public_key)

    @property
    def kid(self) -> str:
        return f"{self.did}#{encode_public_key(self.public_key)}"

    def proof(
        self,
        *,
        audience: str,
        nonce: str | None,
        use_jwk: bool = False,
        iat: float | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        head: dict[str, Any] = {"typ": "openid4vci-proof+jwt", "alg": self.signer.algorithm}
        if use_jwk:
            head["jwk"] = public_jwk(self.signer.public_key)
        else:
            head["kid"] = self.kid
        head |= header or {}
        body: dict[str, Any] = {"aud": audience, "iat": int(iat or time.time())}
        if nonce is not None:
            body["nonce"] = nonce
        body |= claims or {}
        payload = json.dumps(body).encode()
        return vc_jwt.sign_compact_jws(
            {k: v for k, v in head.items() if v is not None}, payload, self.signer
        )


def offer_code(link: str) -> str:
    """The pre-authorized code at the end of an offer link's credential_offer_uri."""
    uri = parse_qs(urlsplit(link).query)["credential_offer_uri"][0]
    return urlsplit(uri).path.rsplit("/", 1)[1]


def offer_path(link: str) -> str:
    uri = parse_qs(urlsplit(link).query)["credential_offer_uri"][0]
    return urlsplit(uri).path
