"""JWK conversion, thumbprints and JWKS, checked against the RFC 7638 and RFC 8037 examples."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk as jwcrypto_jwk

from keys.jwk import (
    JwkError,
    b64url_decode,
    b64url_encode,
    build_jwks,
    jwk_thumbprint,
    jwk_to_public_key,
    jws_algorithm,
    public_jwk,
)

# RFC 7638 §3.1, the RSA key whose thumbprint the RFC works out.
RFC7638_KEY = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJ"
    "ECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvz"
    "qY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu"
    "0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
# RFC 8037 A.1-A.3: an Ed25519 private key, its public JWK and the JWK's thumbprint.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_PUBLIC = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc7638_rsa_thumbprint() -> None:
    assert jwk_thumbprint(RFC7638_KEY) == RFC7638_THUMBPRINT
    assert jwk_thumbprint(jwk_to_public_key(RFC7638_KEY)) == RFC7638_THUMBPRINT


def test_rfc8037_ed25519_public_jwk_and_thumbprint() -> None:
    private_key = Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
    assert public_jwk(private_key.public_key()) == RFC8037_PUBLIC
    assert jwk_thumbprint(RFC8037_PUBLIC) == RFC8037_THUMBPRINT
    assert jwk_thumbprint(private_key.public_key()) == RFC8037_THUMBPRINT


def test_p256_thumbprint_agrees_with_jwcrypto() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert jwk_thumbprint(key) == jwcrypto_jwk.JWK.from_pyca(key).thumbprint()


@pytest.mark.parametrize(
    "private_key",
    [
        Ed25519PrivateKey.generate(),
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ],
    ids=["Ed25519", "P-256", "RSA"],
)
def test_public_jwk_round_trip_and_no_private_members(private_key) -> None:
    public_key = private_key.public_key()
    jwk = public_jwk(public_key, kid="k1", alg=jws_algorithm(public_key), use="sig")
    assert "d" not in jwk
    assert set(jwk) <= {"kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"}
    assert jwk_to_public_key(jwk) == public_key
    # An independent implementation reads the same key.
    assert jwcrypto_jwk.JWK(**jwk).get_op_key("verify") == public_key


def test_p256_coordinates_are_full_width() -> None:
    # RFC 7518 §6.2.1.2: x and y are always 32 bytes, leading zeros kept.
    for _ in range(64):
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        jwk = public_jwk(key)
        assert len(b64url_decode(jwk["x"])) == 32
        assert len(b64url_decode(jwk["y"])) == 32


def test_public_jwk_refuses_private_keys_and_wrong_alg() -> None:
    with pytest.raises(TypeError):
        public_jwk(Ed25519PrivateKey.generate())  # type: ignore[arg-type]  # private: what is tested
    with pytest.raises(JwkError, match="does not fit"):
        public_jwk(Ed25519PrivateKey.generate().public_key(), alg="ES256")


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({**RFC8037_PUBLIC, "d": RFC8037_D}, "private"),
        ({**RFC8037_PUBLIC, "crv": "X25519"}, "unsupported OKP curve"),
        ({**RFC8037_PUBLIC, "x": RFC8037_PUBLIC["x"] + "="}, "not base64url"),
        ({**RFC8037_PUBLIC, "x": b64url_encode(bytes(31))}, "32 bytes"),
        ({**RFC8037_PUBLIC, "use": "enc"}, "use"),
        ({**RFC8037_PUBLIC, "alg": "RS256"}, "does not fit"),
        ({"kty": "oct", "k": "c2VjcmV0"}, "private"),
        ({"kty": "oct"}, "unsupported JWK kty"),
        ({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, "unsupported EC curve"),
        ({"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}, "not a point"),
        ({"kty": "RSA", "e": "AQAB"}, "lacks 'n'"),
        ({"kty": "RSA", "n": "AQAB" * 32, "e": "AQAB"}, "at least 2048 bits"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_bad_jwks_are_refused(jwk, message: str) -> None:
    with pytest.raises(JwkError, match=message):
        jwk_to_public_key(jwk)


def test_jwks_assembly() -> None:
    ed = Ed25519PrivateKey.generate().public_key()
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwks = build_jwks([("a", ed), ("b", p256)])
    assert [(k["kid"], k["alg"], k["use"], k["kty"]) for k in jwks["keys"]] == [
        ("a", "EdDSA", "sig", "OKP"),
        ("b", "ES256", "sig", "EC"),
    ]
    assert jwk_to_public_key(jwks["keys"][1]) == p256
    with pytest.raises(JwkError, match="duplicate"):
        build_jwks([("a", ed), ("a", p256)])


@pytest.mark.parametrize("text", ["a", "ab=", "a+b/", "ab c", "AB"])
def test_strict_base64url(text: str) -> None:
    # "AB" decodes, but its last character has non-zero unused bits ("AA" is canonical).
    with pytest.raises(ValueError):
        b64url_decode(text)
