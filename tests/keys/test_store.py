"""Issuer keys in the database: sealed at rest, rotation, DID documents and JWKS."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from badges.issuing import create_issuer, did_document
from badges.issuing.issuers import jwks
from badges.securing import issuer_signer
from catalogue.organisations import create_organisation
from keys import store
from keys.did import did_web_to_url
from keys.models import IssuerKey
from keys.multikey import decode_public_key
from keys.sealing import MasterKey, generate_master_key
from tests.support.present import present


def _issuer(session: Session, master_key: MasterKey, *, public: bool):
    org = create_organisation(session, legal_name="Volt Academy", country="DE", slug="volt")
    issuer = create_issuer(
        session,
        master_key,
        organisation=org,
        name="Volt Academy",
        slug="volt",
        base_url="https://badges.volt.example" if public else "http://127.0.0.1:8000",
        public_https=public,
    )
    session.commit()
    return issuer


@pytest.mark.parametrize("public", [True, False], ids=["did-web", "did-key"])
def test_database_holds_no_clear_private_key(
    session: Session, master_key: str, public: bool
) -> None:
    mk = MasterKey(master_key)
    issuer = _issuer(session, mk, public=public)
    for algorithm in ("Ed25519", "P-256"):
        # keys/ opens its own keys; nothing outside it can (that is the point).
        record = store.active_keys(session, issuer.id, algorithm)[0]
        raw = store._open(mk, record).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        secret = raw[-32:]  # the scalar / seed at the end of the PKCS#8 structure
        rows = session.connection().exec_driver_sql("SELECT * FROM issuer_key")
        dump = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for row in rows
            for v in row
        )
        assert secret not in dump
        assert base64.b64encode(secret)[:20] not in dump
        assert secret.hex().encode() not in dump


def test_wrong_master_key_is_refused(session: Session, master_key: str) -> None:
    mk = MasterKey(master_key)
    issuer = _issuer(session, mk, public=False)
    store.ensure_master_key(session, master_key)
    other = generate_master_key()
    with pytest.raises(store.KeyStoreError, match="does not match"):
        store.ensure_master_key(session, other)
    with pytest.raises(store.KeyStoreError, match="cannot be opened"):
        store.signer(session, MasterKey(other), issuer.id)


def test_corrupt_key_row_is_a_clear_error(session: Session, master_key: str) -> None:
    mk = MasterKey(master_key)
    issuer = _issuer(session, mk, public=False)
    record = session.exec(select(IssuerKey).where(IssuerKey.algorithm == "Ed25519")).one()
    damaged = bytearray(record.sealed_private_key)
    damaged[-1] ^= 1
    record.sealed_private_key = bytes(damaged)
    session.add(record)
    session.commit()
    with pytest.raises(store.KeyStoreError, match="cannot be opened"):
        store.signer(session, mk, issuer.id)


def test_did_key_issuer_key_is_its_did(session: Session, master_key: str) -> None:
    issuer = _issuer(session, MasterKey(master_key), public=False)
    ed25519, p256 = session.exec(select(IssuerKey).order_by(IssuerKey.algorithm)).all()
    assert (ed25519.algorithm, p256.algorithm) == ("Ed25519", "P-256")
    assert issuer.did == f"did:key:{ed25519.public_multibase}"
    assert ed25519.controller == issuer.did
    # The ES256 key: a did:key names one key, so this one has its own (did:key:zDn…), sealed
    # like the Ed25519 key.
    assert p256.controller == f"did:key:{p256.public_multibase}"
    assert p256.public_multibase.startswith("zDn")


def test_did_key_issuer_signs_jwt_es256_by_default_and_eddsa_by_option(
    session: Session, master_key: str, client: TestClient
) -> None:
    mk = MasterKey(master_key)
    issuer = _issuer(session, mk, public=False)
    es256 = issuer_signer(session, mk, issuer.id, "jwt")
    assert es256.algorithm == "ES256"
    kid = present(es256.kid)
    assert kid == f"did:key:{kid.split('#')[1]}#{kid.split('#')[1]}"
    assert kid.startswith("did:key:zDn")
    assert issuer_signer(session, mk, issuer.id, "jwt", jwt_algorithm="EdDSA").algorithm == "EdDSA"
    session.commit()
    kids = {k["kid"]: k["alg"] for k in client.get("/issuers/volt/jwks.json").json()["keys"]}
    assert kids[es256.kid] == "ES256"
    # The served profile lists that did:key, which the issuer's own did:key cannot name.
    profile = client.get("/issuers/volt", headers={"accept": "application/ld+json"}).json()
    entries = [
        e for e in profile["otherIdentifier"] if e["identifierType"] == "ext:VcJwtSigningKey"
    ]
    assert [e["identifier"] for e in entries] == [kid.split("#")[0]]


def test_an_existing_did_key_issuer_gets_its_p256_key_once(
    session: Session, master_key: str
) -> None:
    mk = MasterKey(master_key)
    issuer = _issuer(session, mk, public=False)
    for key in session.exec(select(IssuerKey).where(IssuerKey.algorithm == "P-256")):
        session.delete(key)  # as an issuer made before ES256 by default
    session.flush()
    first = issuer_signer(session, mk, issuer.id, "jwt")
    again = issuer_signer(session, mk, issuer.id, "jwt")
    assert first.kid == again.kid
    p256 = session.exec(select(IssuerKey).where(IssuerKey.algorithm == "P-256")).all()
    assert len(p256) == 1


def test_rotation_keeps_old_keys_published(session: Session, master_key: str) -> None:
    mk = MasterKey(master_key)
    issuer = _issuer(session, mk, public=True)
    old = store.signer(session, mk, issuer.id)
    record = store.rotate(
        session, mk, issuer_id=issuer.id, controller=issuer.did, algorithm="Ed25519"
    )
    session.commit()
    new = store.signer(session, mk, issuer.id)
    assert new.public_key == store.public_key(record) != old.public_key
    document = did_document(session, issuer)
    ids = [vm["id"] for vm in document["verificationMethod"]]
    assert new.verification_method in ids and old.verification_method in ids
    assert ids.index(new.verification_method) < ids.index(old.verification_method)
    assert set(document["assertionMethod"]) == set(ids)
    kids = {k["kid"] for k in jwks(session, issuer)["keys"]}
    assert {old.kid, new.kid} <= kids


def test_did_web_document_and_jwks_served(
    client: TestClient, session: Session, master_key: str
) -> None:
    issuer = _issuer(session, MasterKey(master_key), public=True)
    assert issuer.did == "did:web:badges.volt.example:issuers:volt"
    assert did_web_to_url(issuer.did) == "https://badges.volt.example/issuers/volt/did.json"
    document = client.get("/issuers/volt/did.json").json()
    assert document["id"] == issuer.did
    multikeys = [vm for vm in document["verificationMethod"] if vm["type"] == "Multikey"]
    assert len(multikeys) == 2  # Ed25519 and P-256
    for vm in multikeys:
        decode_public_key(vm["publicKeyMultibase"])
        assert vm["controller"] == issuer.did
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert {k["kty"] for k in keys} == {"OKP", "EC"}
    assert all("d" not in k for k in keys)
    profile = client.get("/issuers/volt", headers={"accept": "application/ld+json"}).json()
    assert profile["id"] == issuer.did and "Profile" in profile["type"]


def test_did_key_issuer_has_no_did_web_document(
    client: TestClient, session: Session, master_key: str
) -> None:
    _issuer(session, MasterKey(master_key), public=False)
    response = client.get("/issuers/volt/did.json")
    assert response.status_code == 404
    assert "did:key" in response.json()["error"]["message"]
