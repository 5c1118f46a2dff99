"""did:key resolution, did:web mapping (did:web spec examples), and issuer key documents."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.did import (
    DidError,
    PublicKeyInfo,
    build_controller_document,
    build_did_document,
    did_key_from_public_key,
    did_key_verification_method,
    did_web_from_url,
    did_web_to_url,
    resolve_did_key,
)
from keys.jwk import jwk_thumbprint, jwk_to_public_key
from keys.multikey import decode_public_key, encode_public_key
from tests.support.reference import reference

INTEROP_DIR = Path(__file__).resolve().parents[1] / "interop"


def _key_pair() -> dict:
    path = reference("ob3", "examples", "w3c-vc-di-eddsa", "keyPair.json")
    return json.loads(path.read_text())


def test_did_key_round_trip_from_the_w3c_key() -> None:
    multibase = _key_pair()["publicKeyMultibase"]
    public_key = decode_public_key(multibase)
    did = did_key_from_public_key(public_key)
    assert did == f"did:key:{multibase}"
    vm = did_key_verification_method(public_key)
    assert vm == f"{did}#{multibase}"

    document, resolved = resolve_did_key(vm)
    assert resolved == public_key
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert document["id"] == did
    assert document["verificationMethod"] == [
        {"id": vm, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
    ]
    assert document["assertionMethod"] == [vm]
    assert document["authentication"] == [vm]
    assert resolve_did_key(did)[0] == document


def test_did_key_for_p256() -> None:
    public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    did = did_key_from_public_key(public_key)
    assert did.startswith("did:key:zDn")
    assert resolve_did_key(did)[1] == public_key


def test_cross_stack_golden_verification_method_is_the_seed_keys_did_key() -> None:
    # The golden vector was signed by Digital Bazaar and openbadgeslib with this did:key.
    folder = ("ob3", "examples", "cross-stack-golden")
    seed = bytes.fromhex(reference(*folder, "key.seed").read_text().strip())
    signed = json.loads(reference(*folder, "signed_by_digitalbazaar.json").read_text())
    public_key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    assert signed["proof"]["verificationMethod"] == did_key_verification_method(public_key)


@pytest.mark.parametrize(
    ("did_url", "message"),
    [
        ("did:web:example.com", "not a did:key"),
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#key-1", "fragment"),
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ", "usable public key"),
        ("did:key:mO0B", "usable public key"),
    ],
)
def test_bad_did_keys(did_url: str, message: str) -> None:
    with pytest.raises(DidError, match=message):
        resolve_did_key(did_url)


# The did:web method specification's own examples (§3.2 Create, §3.3 Read).
DID_WEB_EXAMPLES = [
    ("https://w3c-ccg.github.io", "did:web:w3c-ccg.github.io"),
    ("https://w3c-ccg.github.io/user/alice", "did:web:w3c-ccg.github.io:user:alice"),
    ("https://example.com:3000/user/alice", "did:web:example.com%3A3000:user:alice"),
]


@pytest.mark.parametrize(("url", "did"), DID_WEB_EXAMPLES)
def test_did_web_from_url(url: str, did: str) -> None:
    assert did_web_from_url(url) == did
    assert did_web_from_url(url + "/") == did


@pytest.mark.parametrize(
    ("did", "document_url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        (
            "did:web:example.com%3A3000:user:alice",
            "https://example.com:3000/user/alice/did.json",
        ),
        ("did:web:example.com#key-1", "https://example.com/.well-known/did.json"),
    ],
)
def test_did_web_to_url(did: str, document_url: str) -> None:
    assert did_web_to_url(did) == document_url
    # The document's own URL maps back to the DID.
    assert did_web_from_url(document_url) == did.partition("#")[0]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://user:secret@example.com/issuer",
        "https://192.0.2.1/issuer",
        "https://[2001:db8::1]/issuer",
        "https://example.com/a//b",
        "https://example.com/a/../b",
        "https://example.com/issuer?x=1",
        "https://example.com/issuer#frag",
        "https://example.com/did.json",
        "https://exa_mple.com",
    ],
)
def test_did_web_from_url_refuses(url: str) -> None:
    with pytest.raises(DidError) as caught:
        did_web_from_url(url)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mk",
        "did:web:192.0.2.1",
        "did:web:example.com:..:admin",
        "did:web:example.com:%2E%2E:admin",
        "did:web:example.com::a",
        "did:web:example.com%3A99999",
        "did:web:example.com%3Ahttp",
        "did:web:example.com/path",
        "did:web:evil.com%2Fx",
    ],
)
def test_did_web_to_url_refuses(did: str) -> None:
    with pytest.raises(DidError):
        did_web_to_url(did)


def _keys() -> tuple[PublicKeyInfo, PublicKeyInfo]:
    current = PublicKeyInfo(Ed25519PrivateKey.generate().public_key())
    previous = PublicKeyInfo(ec.generate_private_key(ec.SECP256R1()).public_key())
    return current, previous


def test_did_document_publishes_each_key_as_multikey_and_jsonwebkey() -> None:
    did = did_web_from_url("https://badges.example.org/issuers/acme")
    current, previous = _keys()
    document = build_did_document(did, [current, previous])

    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/jwk/v1",
    ]
    assert document["id"] == did
    methods = document["verificationMethod"]
    assert [m["type"] for m in methods] == ["Multikey", "JsonWebKey"] * 2
    assert all(m["controller"] == did for m in methods)
    assert document["assertionMethod"] == [m["id"] for m in methods]
    assert "authentication" not in document

    pairs = zip(methods[::2], methods[1::2], strict=True)
    for info, (multikey_vm, jwk_vm) in zip((current, previous), pairs, strict=True):
        multibase = encode_public_key(info.public_key)
        assert multikey_vm["id"] == info.multikey_id(did) == f"{did}#{multibase}"
        assert decode_public_key(multikey_vm["publicKeyMultibase"]) == info.public_key
        assert jwk_vm["id"] == info.jwk_id(did) == f"{did}#{jwk_thumbprint(info.public_key)}"
        assert jwk_to_public_key(jwk_vm["publicKeyJwk"]) == info.public_key
        # DID Core §5.2.1: one verification material property per method.
        assert "publicKeyJwk" not in multikey_vm
        assert "publicKeyMultibase" not in jwk_vm
        assert "d" not in jwk_vm["publicKeyJwk"]


def test_openbadgeslib_selects_our_methods_by_kid() -> None:
    # openbadgeslib resolves a JWT kid against a fetched did:web document this way.
    openbadgeslib_did = pytest.importorskip("openbadgeslib.ob3.did")
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    did = "did:web:badges.example.org"
    current, previous = _keys()
    document = build_did_document(did, [current, previous])
    for info in (current, previous):
        for vm_id in (info.jwk_id(did), info.multikey_id(did)):
            pem = openbadgeslib_did.pem_for_kid(document, did, vm_id)
            assert load_pem_public_key(pem) == info.public_key


def test_controller_document_for_an_https_issuer() -> None:
    issuer = "https://badges.example.org/issuers/acme"
    current, _ = _keys()
    document = build_controller_document(issuer, [current])
    assert document["id"] == issuer
    assert document["verificationMethod"][0]["id"] == f"{issuer}#{current.multibase}"
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    with pytest.raises(DidError):
        build_controller_document("http://badges.example.org/issuers/acme", [current])
    with pytest.raises(DidError):
        build_controller_document(issuer + "#me", [current])


def test_documents_refuse_empty_or_repeated_keys() -> None:
    current, _ = _keys()
    with pytest.raises(DidError, match="at least one"):
        build_did_document("did:web:example.com", [])
    with pytest.raises(DidError, match="twice"):
        build_did_document("did:web:example.com", [current, current])
    with pytest.raises(DidError, match="must be a DID"):
        build_did_document("https://example.com", [current])


@pytest.mark.interop
def test_digital_bazaar_reads_both_methods_as_the_same_key() -> None:
    module = INTEROP_DIR / "node_modules" / "@digitalbazaar" / "ed25519-multikey"
    if shutil.which("node") is None or not module.is_dir():
        pytest.skip("node and tests/interop/node_modules/@digitalbazaar/ed25519-multikey needed")
    did = "did:web:badges.example.org"
    info = PublicKeyInfo(Ed25519PrivateKey.generate().public_key())
    document = build_did_document(did, [info])
    script = """
      import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
      let input = '';
      for await (const chunk of process.stdin) input += chunk;
      const document = JSON.parse(input);
      const exported = [];
      for (const method of document.verificationMethod) {
        const key = await Ed25519Multikey.from({ ...method, '@context': document['@context'] });
        exported.push(await key.export({ publicKey: true }));
      }
      console.log(JSON.stringify(exported));
    """
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=json.dumps(document),
        cwd=INTEROP_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert [key["id"] for key in exported] == [info.multikey_id(did), info.jwk_id(did)]
    assert {key["publicKeyMultibase"] for key in exported} == {info.multibase}
