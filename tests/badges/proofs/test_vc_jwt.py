"""VC-JWT: RFC 8037 vector, OB spec and 1EdTech validator tokens, interop, and refusals."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from badges.proofs.vc_jwt import (
    JwtError,
    credential_from_payload,
    decode_unverified,
    sign,
    sign_compact_jws,
    verify,
    verify_compact_jws,
)
from keys.did import PublicKeyInfo, build_did_document, did_web_to_url
from keys.jwk import b64url_decode, b64url_encode, jwk_to_public_key, public_jwk
from keys.signer import UnsupportedKey, from_private_key
from tests.support.reference import reference

SPEC_EXAMPLES = (
    "01-sample-openbadgecredential-file-contents",
    "02-sample-openbadgecredential",
    "03-complete-openbadgecredential",
    "04-sample-endorsementcredential",
    "05-achievement-alignment-case",
    "06-achievement-alignment-credential-engine",
    "07-skill-assertion-case",
    "08-skill-assertion-credential-registry",
)
ISSUED_AT = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
KID = "did:web:badges.example.org#key-1"
INTEROP_DIR = Path(__file__).resolve().parents[2] / "interop"


def _spec(example: str, name: str) -> Path:
    return reference("ob3", "examples", "ob3-spec-rendered", example, name)


def _complete_credential() -> dict:
    # validFrom and validUntil, so both nbf and exp are exercised.
    return json.loads(_spec(SPEC_EXAMPLES[2], "credential.unsigned.json").read_text())


def _private_keys() -> list:
    return [Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())]


def _header(raw: bytes) -> str:
    return b64url_encode(raw) + ".e30.AA"


def _token_with(header: dict, payload: dict | bytes, signature: bytes = b"\0" * 64) -> str:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ".".join(
        [b64url_encode(json.dumps(header).encode()), b64url_encode(body), b64url_encode(signature)]
    )


# --- the JWS core ------------------------------------------------------------------------


def test_rfc8037_ed25519_jws_vector() -> None:
    # RFC 8037 A.4: Ed25519 is deterministic, so signing must reproduce the RFC's JWS.
    private_key = Ed25519PrivateKey.from_private_bytes(
        b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    )
    expected = (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    assert (
        sign_compact_jws(
            {"alg": "EdDSA"}, b"Example of Ed25519 signing", from_private_key(private_key)
        )
        == expected
    )
    header, payload = verify_compact_jws(expected, private_key.public_key())
    assert header == {"alg": "EdDSA"}
    assert payload == b"Example of Ed25519 signing"


# --- signing -------------------------------------------------------------------------------


@pytest.mark.parametrize("private_key", _private_keys(), ids=["EdDSA", "ES256"])
def test_sign_and_verify_round_trip(private_key) -> None:
    credential = _complete_credential()
    token = sign(credential, signer=from_private_key(private_key, kid=KID), issued_at=ISSUED_AT)

    header, unverified = decode_unverified(token)
    alg = "EdDSA" if isinstance(private_key, Ed25519PrivateKey) else "ES256"
    assert header == {"alg": alg, "typ": "JWT", "kid": KID}

    payload = verify(token, private_key.public_key())
    assert payload == unverified
    assert "vc" not in payload
    assert payload["iss"] == credential["issuer"]["id"]
    assert payload["jti"] == credential["id"]
    assert payload["sub"] == credential["credentialSubject"]["id"]
    assert payload["nbf"] == int(datetime.fromisoformat(credential["validFrom"]).timestamp())
    assert payload["exp"] == int(datetime.fromisoformat(credential["validUntil"]).timestamp())
    assert payload["iat"] == int(ISSUED_AT.timestamp())
    assert {k: v for k, v in payload.items() if k not in credential} == {
        k: payload[k] for k in ("iss", "jti", "sub", "nbf", "exp", "iat")
    }

    extracted = credential_from_payload(payload)
    assert extracted.credential == credential
    assert not extracted.legacy
    assert extracted.problems == ()


def test_es256_signature_is_raw_r_s() -> None:
    token = sign(
        _complete_credential(),
        signer=from_private_key(_private_keys()[1], kid=KID),
        issued_at=ISSUED_AT,
    )
    assert len(b64url_decode(token.rsplit(".", 1)[1])) == 64


def test_embedded_jwk_is_public_only() -> None:
    private_key = Ed25519PrivateKey.generate()
    token = sign(
        _complete_credential(), signer=from_private_key(private_key, kid=None), embed_jwk=True
    )
    header, _ = decode_unverified(token)
    assert header["jwk"] == public_jwk(private_key.public_key())
    assert "d" not in header["jwk"]
    assert "kid" not in header
    verify(token, jwk_to_public_key(header["jwk"]))


def test_credential_without_subject_id_has_no_sub() -> None:
    credential = _complete_credential()
    del credential["credentialSubject"]["id"]
    private_key = Ed25519PrivateKey.generate()
    payload = verify(
        sign(credential, signer=from_private_key(private_key, kid=KID)), private_key.public_key()
    )
    assert "sub" not in payload
    assert credential_from_payload(payload).problems == ()


def test_fractional_and_offset_dates_become_exact_numeric_dates() -> None:
    credential = _complete_credential()
    credential["validFrom"] = "2024-03-01T10:00:00.250+02:00"
    del credential["validUntil"]
    private_key = Ed25519PrivateKey.generate()
    payload = verify(
        sign(credential, signer=from_private_key(private_key, kid=KID)), private_key.public_key()
    )
    assert payload["nbf"] == datetime(2024, 3, 1, 8, 0, 0, 250000, tzinfo=UTC).timestamp()
    assert "exp" not in payload
    assert credential_from_payload(payload).problems == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("validFrom"), "validFrom"),
        (lambda c: c.pop("id"), "no id"),
        (lambda c: c.pop("issuer"), "no issuer"),
        (lambda c: c.update(validFrom="2010-01-01T00:00:00"), "time zone"),
        (lambda c: c.update(validUntil="soon"), "ISO 8601"),
        (lambda c: c.update(iss="https://someone.else"), "conflicts"),
    ],
)
def test_sign_refuses_credentials_missing_required_claims(change, message: str) -> None:
    credential = _complete_credential()
    change(credential)
    with pytest.raises(JwtError, match=message):
        sign(credential, signer=from_private_key(Ed25519PrivateKey.generate(), kid=KID))


def test_sign_refuses_bad_key_or_header_choices() -> None:
    credential = _complete_credential()
    with pytest.raises(JwtError, match="kid or an embedded jwk"):
        sign(credential, signer=from_private_key(Ed25519PrivateKey.generate(), kid=None))
    with pytest.raises(JwtError, match="does not fit"):
        sign(
            credential, signer=from_private_key(Ed25519PrivateKey.generate(), kid=KID), alg="ES256"
        )
    with pytest.raises(UnsupportedKey, match="P-256"):  # no signer for a key we cannot use
        from_private_key(ec.generate_private_key(ec.SECP384R1()), kid=KID)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(JwtError, match="not RS256"):
        sign(credential, signer=from_private_key(rsa_key, kid=KID))


# --- published tokens ----------------------------------------------------------------------


@pytest.mark.parametrize("example", SPEC_EXAMPLES)
def test_ob_spec_examples_verify_with_their_header_jwk(example: str) -> None:
    token = _spec(example, "credential.vc-jwt.jwt").read_text().strip()
    header, _ = decode_unverified(token)
    assert header == json.loads(_spec(example, "credential.vc-jwt.header.json").read_text())
    assert header["alg"] == "RS256"
    payload = verify(token, jwk_to_public_key(header["jwk"]))
    assert payload == json.loads(_spec(example, "credential.vc-jwt.payload.json").read_text())

    extracted = credential_from_payload(payload)
    assert not extracted.legacy
    unsigned = json.loads(_spec(example, "credential.unsigned.json").read_text())
    assert extracted.credential == unsigned
    # iss, jti and sub agree with the credential; the spec's generator left out nbf (and exp).
    assert {(p.claim, p.kind) for p in extracted.problems} <= {
        ("nbf", "missing"),
        ("exp", "missing"),
    }
    assert ("nbf", "missing") in {(p.claim, p.kind) for p in extracted.problems}


def _validator_svg_token(name: str) -> str:
    svg = reference("ob3", "examples", "1edtech-validator-ob30", name).read_text()
    found = re.search(r'<openbadges:credential verify="([^"]+)"', svg)
    assert found, f"no baked JWT in {name}"
    return found.group(1)


@pytest.mark.parametrize(
    ("name", "legacy"), [("simple-jwt.svg", False), ("simple-jwt_v1.svg", True)]
)
def test_1edtech_validator_tokens_verify(name: str, legacy: bool) -> None:
    token = _validator_svg_token(name)
    header, _ = decode_unverified(token)
    payload = verify(token, jwk_to_public_key(header["jwk"]))
    extracted = credential_from_payload(payload)
    assert extracted.legacy is legacy
    # These tokens carry the subject in `aud` instead of `sub`; everything else matches.
    assert [(p.claim, p.kind) for p in extracted.problems] == [("sub", "missing")]


def test_1edtech_validator_simple_jwt_is_legacy_vc_claim() -> None:
    # Its RS256 key is neither in the header nor among the fixtures: decode only.
    token = reference("ob3", "examples", "1edtech-validator-ob30", "simple.jwt").read_text()
    header, payload = decode_unverified(token.strip())
    assert header == {"alg": "RS256", "typ": "JWT"}
    extracted = credential_from_payload(payload)
    assert extracted.legacy
    assert extracted.credential == payload["vc"]
    assert extracted.problems == ()


def test_legacy_claims_fill_in_missing_credential_members() -> None:
    payload = {
        "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"], "credentialSubject": {}},
        "iss": "https://issuer.example",
        "jti": "urn:uuid:1",
        "sub": "did:example:me",
        "nbf": 1262304000,
        "exp": 1893456000,
    }
    extracted = credential_from_payload(payload)
    assert extracted.credential["issuer"] == "https://issuer.example"
    assert extracted.credential["id"] == "urn:uuid:1"
    assert extracted.credential["credentialSubject"] == {"id": "did:example:me"}
    assert extracted.credential["issuanceDate"] == "2010-01-01T00:00:00Z"
    assert extracted.credential["expirationDate"] == "2030-01-01T00:00:00Z"
    assert extracted.problems == ()


def test_claims_that_disagree_with_the_credential_are_reported() -> None:
    private_key = Ed25519PrivateKey.generate()
    payload = verify(
        sign(_complete_credential(), signer=from_private_key(private_key, kid=KID)),
        private_key.public_key(),
    )
    for claim, value in [
        ("iss", "https://impostor.example"),
        ("jti", "urn:other"),
        ("sub", "did:example:other"),
        ("nbf", payload["nbf"] + 3600),
        ("exp", "tomorrow"),
    ]:
        changed = {**payload, claim: value}
        problems = credential_from_payload(changed).problems
        assert [(p.claim, p.kind) for p in problems] == [(claim, "mismatch")]


def test_payload_without_a_credential_is_refused() -> None:
    with pytest.raises(JwtError, match="no credential"):
        credential_from_payload({"iss": "x", "sub": "y"})


# --- interop -------------------------------------------------------------------------------


@pytest.mark.interop
@pytest.mark.parametrize("private_key", _private_keys(), ids=["EdDSA", "ES256"])
def test_jwcrypto_verifies_our_tokens(private_key) -> None:
    token = sign(_complete_credential(), signer=from_private_key(private_key, kid=KID))
    checker = jwcrypto_jws.JWS()
    checker.deserialize(token)
    checker.verify(jwcrypto_jwk.JWK.from_pyca(private_key.public_key()))
    assert json.loads(checker.payload) == verify(token, private_key.public_key())


@pytest.mark.interop
@pytest.mark.parametrize("private_key", _private_keys(), ids=["EdDSA", "ES256"])
def test_we_verify_jwcrypto_tokens(private_key) -> None:
    alg = "EdDSA" if isinstance(private_key, Ed25519PrivateKey) else "ES256"
    payload = {"iss": "https://issuer.example", "n": 1}
    signer = jwcrypto_jws.JWS(json.dumps(payload).encode())
    signer.add_signature(
        jwcrypto_jwk.JWK.from_pyca(private_key), alg=alg, protected={"alg": alg, "typ": "JWT"}
    )
    token = signer.serialize(compact=True)
    assert verify(token, private_key.public_key()) == payload
    other = _private_keys()[0 if alg == "EdDSA" else 1]
    with pytest.raises(JwtError, match="does not verify"):
        verify(token, other.public_key())


@pytest.mark.interop
def test_openbadgeslib_verifies_our_token_through_our_did_web_document() -> None:
    openbadgeslib_verifier = pytest.importorskip("openbadgeslib.ob3.verifier")
    did = "did:web:badges.example.org:issuers:acme"
    current, previous = Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())
    keys = [PublicKeyInfo(current.public_key()), PublicKeyInfo(previous.public_key())]
    document = build_did_document(did, keys)
    fetched: list[str] = []

    def download(url: str) -> bytes:
        fetched.append(url)
        return json.dumps(document).encode()

    credential = json.loads(_spec(SPEC_EXAMPLES[1], "credential.unsigned.json").read_text())
    credential["issuer"]["id"] = did
    verifier = openbadgeslib_verifier.OB3Verifier.for_issuer_did(did, download=download)
    assert fetched == [did_web_to_url(did)]
    for private_key, info in ((current, keys[0]), (previous, keys[1])):
        token = sign(credential, signer=from_private_key(private_key, kid=info.jwk_id(did)))
        verified = verifier.verify(token)
        assert verified.issuer.id == did


def _node(script: str, stdin: str) -> str:
    if shutil.which("node") is None or not (INTEROP_DIR / "node_modules" / "jose").is_dir():
        pytest.skip("node and tests/interop/node_modules/jose are needed for this oracle")
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=stdin,
        cwd=INTEROP_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.interop
@pytest.mark.parametrize("private_key", _private_keys(), ids=["EdDSA", "ES256"])
def test_node_jose_verifies_our_tokens(private_key) -> None:
    token = sign(_complete_credential(), signer=from_private_key(private_key, kid=KID))
    script = """
      import { compactVerify, importJWK } from 'jose';
      let input = '';
      for await (const chunk of process.stdin) input += chunk;
      const { token, jwk } = JSON.parse(input);
      const key = await importJWK(jwk, jwk.alg);
      const { payload, protectedHeader } = await compactVerify(token, key);
      const text = new TextDecoder().decode(payload);
      console.log(JSON.stringify({ header: protectedHeader, payload: text }));
    """
    jwk = public_jwk(private_key.public_key(), alg=decode_unverified(token)[0]["alg"])
    out = json.loads(_node(script, json.dumps({"token": token, "jwk": jwk})))
    assert out["header"] == decode_unverified(token)[0]
    assert json.loads(out["payload"]) == verify(token, private_key.public_key())


@pytest.mark.interop
@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_we_verify_node_jose_tokens(alg: str) -> None:
    script = """
      import { CompactSign, exportJWK, generateKeyPair } from 'jose';
      let input = '';
      for await (const chunk of process.stdin) input += chunk;
      const { alg: wanted } = JSON.parse(input);
      const options = wanted === 'EdDSA' ? { crv: 'Ed25519' } : {};
      const { publicKey, privateKey } = await generateKeyPair(wanted, options);
      const token = await new CompactSign(new TextEncoder().encode('{"jti":"urn:x"}'))
        .setProtectedHeader({ alg: wanted, typ: 'JWT' }).sign(privateKey);
      console.log(JSON.stringify({ token, jwk: await exportJWK(publicKey) }));
    """
    out = json.loads(_node(script, json.dumps({"alg": alg})))
    assert verify(out["token"], jwk_to_public_key(out["jwk"])) == {"jti": "urn:x"}


# --- refusals ------------------------------------------------------------------------------


def test_alg_none_is_refused() -> None:
    private_key = Ed25519PrivateKey.generate()
    for alg in ("none", "None", "NONE"):
        token = _token_with({"alg": alg, "typ": "JWT"}, {"iss": "x"}, b"\0")
        with pytest.raises(JwtError, match="alg none"):
            verify(token, private_key.public_key())


@pytest.mark.parametrize("private_key", _private_keys(), ids=["Ed25519", "P-256"])
def test_hs256_with_the_public_key_as_secret_is_refused(private_key) -> None:
    # The classic key-confusion forgery: HMAC keyed with the verifier's public key bytes.
    public_key = private_key.public_key()
    secret = public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = b64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url_encode(json.dumps({"iss": "forged"}).encode())
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(JwtError, match="unsupported alg 'HS256'"):
        verify(f"{header}.{body}.{b64url_encode(mac)}", public_key)
    with pytest.raises(JwtError, match="unsupported alg 'HS256'"):
        verify(f"{header}.{body}.{b64url_encode(mac)}", secret)


def test_a_secret_is_no_verification_key() -> None:
    private_key = Ed25519PrivateKey.generate()
    token = sign(_complete_credential(), signer=from_private_key(private_key, kid=KID))
    with pytest.raises(JwtError, match="not a usable verification key"):
        verify(token, b"shared secret")  # type: ignore[arg-type]  # not a key: what is tested


def test_alg_that_does_not_fit_the_key_is_refused() -> None:
    ed_key, ec_key = _private_keys()
    token = sign(_complete_credential(), signer=from_private_key(ed_key, kid=KID))
    with pytest.raises(JwtError, match="does not match the verification key"):
        verify(token, ec_key.public_key())
    _, payload, signature = token.split(".")
    relabelled = b64url_encode(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    with pytest.raises(JwtError, match="does not match"):
        verify(f"{relabelled}.{payload}.{signature}", ed_key.public_key())
    small_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(JwtError, match="2048"):
        verify(f"{relabelled}.{payload}.{signature}", small_rsa)


@pytest.mark.parametrize("private_key", _private_keys(), ids=["EdDSA", "ES256"])
def test_every_one_character_change_fails(private_key) -> None:
    # The sample credential keeps the token short enough to try every position.
    credential = json.loads(_spec(SPEC_EXAMPLES[1], "credential.unsigned.json").read_text())
    token = sign(credential, signer=from_private_key(private_key, kid=KID))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index, char in enumerate(token):
        if char == ".":
            continue
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        changed = token[:index] + replacement + token[index + 1 :]
        with pytest.raises(JwtError):
            verify(changed, private_key.public_key())


def test_signature_from_another_token_fails() -> None:
    private_key = Ed25519PrivateKey.generate()
    first = sign(_complete_credential(), signer=from_private_key(private_key, kid=KID))
    other = copy.deepcopy(_complete_credential())
    other["name"] = "Another badge"
    second = sign(other, signer=from_private_key(private_key, kid=KID))
    spliced = first.rsplit(".", 1)[0] + "." + second.rsplit(".", 1)[1]
    with pytest.raises(JwtError, match="does not verify"):
        verify(spliced, private_key.public_key())


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("a.b", "3 dot-separated segments"),
        ("a.b.c.d", "3 dot-separated segments"),
        (".e30.AA", "header segment is empty"),
        ("e30..AA", "payload segment is empty"),
        ("e30.e30.", "signature segment is empty"),
        ("e30=.e30.AA", "not strict base64url"),
        ("e30.e30.A A", "not strict base64url"),
        ("e30.e30+.AA", "not strict base64url"),
        (_header(b"not json"), "header is not JSON"),
        (_header(b"[1]"), "header must be a JSON object"),
        (_header(bytes([0xFF])), "header is not JSON"),
        (_header(b'{"alg":"EdDSA","alg":"none"}'), "repeats a member"),
        (_header(b"[" * 100000), "header is not JSON"),
        (_header(b"{}"), "no alg"),
    ],
)
def test_malformed_tokens_are_refused(token: str, message: str) -> None:
    with pytest.raises(JwtError, match=message):
        verify(token, Ed25519PrivateKey.generate().public_key())


def test_critical_header_extensions_are_refused() -> None:
    private_key = Ed25519PrivateKey.generate()
    token = sign_compact_jws(
        {"alg": "EdDSA", "crit": ["exp"], "exp": 1}, b"{}", from_private_key(private_key)
    )
    with pytest.raises(JwtError, match="critical"):
        verify(token, private_key.public_key())


def test_payload_must_be_a_json_object() -> None:
    private_key = Ed25519PrivateKey.generate()
    token = sign_compact_jws({"alg": "EdDSA"}, b"[1, 2]", from_private_key(private_key))
    assert verify_compact_jws(token, private_key.public_key())[1] == b"[1, 2]"
    with pytest.raises(JwtError, match="payload must be a JSON object"):
        verify(token, private_key.public_key())
