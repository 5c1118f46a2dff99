"""OpenID4VCI 1.0 through the real app, on both databases: metadata, the learner's offer, the
pre-authorized code grant, nonces, the credential endpoint with key proofs, and every refusal
in the specs' words. The independent wallet (npm) drives the same flow in tests/interop."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from badges import issuing
from badges.proofs import vc_jwt
from badges.wallet import offers
from badges.wallet.errors import InvalidGrant
from badges.wallet.models import WalletCopy, WalletNonce, WalletOffer
from keys.jwk import public_jwk
from skillshub.db import session_scope
from skillshub.settings import Settings
from tests.support.mail_language import plain_text, until_words
from tests.support.present import present
from tests.support.qr import read_qr
from tests.support.wallet import PRE_AUTHORIZED, Holder, offer_path
from tests.support.world import World

BASE = "http://testserver"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _issue(client: TestClient, world: World, **fields: Any) -> dict[str, Any]:
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": "ada@example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body | fields, headers=_auth(world)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _offer(
    engine: Engine, credential_uuid: str, *, tx_code: bool = False, now: datetime | None = None
) -> offers.Offer:
    with session_scope(engine) as session:
        record = issuing.get_credential(session, credential_uuid)
        return offers.create_offer(
            session,
            record,
            base_url=BASE,
            ttl=timedelta(minutes=10),
            tx_code=tx_code,
            created_by="cli",
            now=now,
        )


def _token(client: TestClient, code: str, **extra: str) -> Any:
    form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code} | extra
    return client.post("/oid4vci/token", data=form)


def _access(client: TestClient, code: str) -> str:
    response = _token(client, code)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _nonce(client: TestClient) -> str:
    response = client.post("/oid4vci/nonce")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    return response.json()["c_nonce"]


def _request(
    client: TestClient,
    access: str,
    body: Any,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    content = raw if raw is not None else json.dumps(body).encode()
    return client.post(
        "/oid4vci/credential",
        content=content,
        headers={"authorization": f"Bearer {access}", "content-type": "application/json"}
        | (headers or {}),
    )


def _ask(client: TestClient, access: str, config: str, proof: str) -> Any:
    return _request(
        client, access, {"credential_configuration_id": config, "proofs": {"jwt": [proof]}}
    )


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert response.headers["cache-control"] == "no-store"
    return body.get("error_description", "")


def _verify(client: TestClient, credential: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(credential, str):
        response = client.post(
            "/api/v1/verify", content=credential, headers={"content-type": "application/jwt"}
        )
    else:
        response = client.post("/api/v1/verify", json=credential)
    assert response.status_code == 200, response.text
    return response.json()


def _entries(credential: dict[str, Any]) -> list[dict[str, Any]]:
    status = credential["credentialStatus"]
    return status if isinstance(status, list) else [status]


# --- metadata ------------------------------------------------------------------------------


def test_metadata_describes_both_formats_with_catalogue_display(
    client: TestClient, world: World
) -> None:
    response = client.get("/.well-known/openid-credential-issuer")
    assert response.status_code == 200
    meta = response.json()
    assert meta["credential_issuer"] == BASE
    assert meta["credential_endpoint"] == f"{BASE}/oid4vci/credential"
    assert meta["nonce_endpoint"] == f"{BASE}/oid4vci/nonce"
    configs = meta["credential_configurations_supported"]
    ldp, jwt = configs[f"{world.mc.slug}_ldp_vc"], configs[f"{world.mc.slug}_jwt_vc_json"]
    assert ldp["format"] == "ldp_vc" and jwt["format"] == "jwt_vc_json"
    assert ldp["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    assert jwt["credential_signing_alg_values_supported"] == ["ES256"]
    assert ldp["credential_definition"]["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert "https://www.w3.org/ns/credentials/v2" in ldp["credential_definition"]["@context"]
    assert "@context" not in jwt["credential_definition"]  # jwt_vc_json: no JSON-LD
    for config in (ldp, jwt):
        assert config["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
        assert config["cryptographic_binding_methods_supported"] == ["did:key", "jwk"]
        [display] = config["credential_metadata"]["display"]
        assert display["name"] == world.mc.title
        assert display["description"] == world.mc.description
        assert display["logo"]["uri"] == f"{BASE}/micro-credentials/{world.mc.slug}/image"
        assert display["background_color"].startswith("#") and display["text_color"]
    assert client.get(display["logo"]["uri"].removeprefix(BASE)).status_code == 200
    assert "OpenBadgeCredential_ldp_vc" in configs  # VC-API credentials

    server = client.get("/.well-known/oauth-authorization-server").json()
    assert server["issuer"] == BASE
    assert server["token_endpoint"] == f"{BASE}/oid4vci/token"
    assert server["grant_types_supported"] == [PRE_AUTHORIZED]
    assert server["pre-authorized_grant_anonymous_access_supported"] is True


# --- the whole flow, both formats ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "holder", "use_jwk"),
    [
        ("ldp_vc", Holder.ed25519, False),
        ("jwt_vc_json", Holder.p256, True),
        ("ldp_vc", Holder.p256, False),
        ("jwt_vc_json", Holder.ed25519, True),
    ],
)
def test_offer_token_nonce_credential_bound_to_the_holder_and_revoked_with_the_award(
    client: TestClient,
    world: World,
    engine: Engine,
    fmt: str,
    holder: Callable[[], Holder],
    use_jwk: bool,
) -> None:
    out = _issue(client, world)
    original = issuing.signed_document(_record(engine, out["id"]))
    assert isinstance(original, dict)
    offer = _offer(engine, out["id"])
    assert offer.link.startswith("openid-credential-offer://?credential_offer_uri=")
    document = client.get(offer_path(offer.link))
    assert document.status_code == 200 and document.headers["cache-control"] == "no-store"
    offered = document.json()
    assert offered["credential_issuer"] == BASE
    config = f"{world.mc.slug}_{fmt}"
    assert config in offered["credential_configuration_ids"]
    grant = offered["grants"][PRE_AUTHORIZED]
    assert grant == {"pre-authorized_code": offer.code}  # no tx_code asked

    token = _token(client, grant["pre-authorized_code"])
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    answer = token.json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 300
    me = holder()
    proof = me.proof(audience=BASE, nonce=_nonce(client), use_jwk=use_jwk)
    response = _ask(client, answer["access_token"], config, proof)
    assert response.status_code == 200, response.text
    [item] = response.json()["credentials"]
    credential = item["credential"]

    if fmt == "jwt_vc_json":
        assert isinstance(credential, str)
        header, payload = vc_jwt.decode_unverified(credential)
        assert header["alg"] == "ES256" and payload["sub"] == me.did
        body = vc_jwt.credential_from_payload(payload).credential
    else:
        assert isinstance(credential, dict)
        assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
        body = credential
    assert body["credentialSubject"]["id"] == me.did
    assert body["id"] == original["id"]
    assert body["issuer"] == original["issuer"]
    assert _entries(body) == _entries(original)
    assert body["credentialSubject"]["achievement"] == original["credentialSubject"]["achievement"]

    report = _verify(client, credential)
    assert report["verdict"] == "valid", report
    with Session(engine) as fresh:
        [copy] = fresh.exec(select(WalletCopy)).all()
    assert copy.holder == me.did and copy.format == fmt

    revoked = client.post(
        f"/api/v1/credentials/{out['id']}/revoke",
        json={"reason": "issued in error"},
        headers=_auth(world),
    )
    assert revoked.status_code == 200, revoked.text
    after = _verify(client, credential)
    assert after["verdict"] != "valid"
    assert "revoked" in json.dumps(after).lower()


def _record(engine: Engine, uuid: str) -> Any:
    with Session(engine) as fresh:
        return issuing.get_credential(fresh, uuid)


# --- the negative cases the issue names ----------------------------------------------------


def test_a_code_is_redeemed_once(client: TestClient, world: World, engine: Engine) -> None:
    offer = _offer(engine, _issue(client, world)["id"])
    _access(client, offer.code)
    _error(_token(client, offer.code), 400, "invalid_grant")
    assert client.get(offer_path(offer.link)).status_code == 404  # the offer is gone too


def test_a_code_is_redeemed_once_under_concurrency(
    client: TestClient, world: World, engine: Engine
) -> None:
    offer = _offer(engine, _issue(client, world)["id"])
    start = threading.Barrier(6)

    def redeem(_: int) -> str:
        start.wait()
        try:
            with session_scope(engine) as session:
                offers.token_response(
                    session,
                    {"grant_type": [PRE_AUTHORIZED], "pre-authorized_code": [offer.code]},
                    token_ttl=timedelta(minutes=5),
                )
        except InvalidGrant:
            return "refused"
        return "token"

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(redeem, range(6)))
    assert sorted(results) == ["refused"] * 5 + ["token"]
    with Session(engine) as fresh:
        [row] = fresh.exec(select(WalletOffer)).all()
    assert row.redeemed_at is not None and row.token_hash is not None


def test_an_expired_offer_is_refused(client: TestClient, world: World, engine: Engine) -> None:
    offer = _offer(engine, _issue(client, world)["id"], now=datetime.now(UTC) - timedelta(hours=1))
    assert client.get(offer_path(offer.link)).json()["error"] == "offer_not_found"
    _error(_token(client, offer.code), 400, "invalid_grant")


def test_an_unknown_code_is_refused(client: TestClient, world: World) -> None:
    _error(_token(client, "not-a-code"), 400, "invalid_grant")
    _error(_token(client, "x" * 5000), 400, "invalid_grant")


def test_wrong_or_reused_nonce_is_invalid_nonce(
    client: TestClient, world: World, engine: Engine
) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    config = f"{world.mc.slug}_ldp_vc"
    me = Holder.ed25519()
    _error(
        _ask(client, access, config, me.proof(audience=BASE, nonce="made-up")), 400, "invalid_nonce"
    )
    nonce = _nonce(client)
    assert _ask(client, access, config, me.proof(audience=BASE, nonce=nonce)).status_code == 200
    _error(_ask(client, access, config, me.proof(audience=BASE, nonce=nonce)), 400, "invalid_nonce")
    # without any nonce the proof itself is invalid (§8.3.1.2)
    _error(_ask(client, access, config, me.proof(audience=BASE, nonce=None)), 400, "invalid_proof")


def test_an_expired_nonce_is_invalid_nonce(
    client: TestClient, world: World, engine: Engine
) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    nonce = _nonce(client)
    with session_scope(engine) as session:
        for row in session.exec(select(WalletNonce)):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
    proof = Holder.ed25519().proof(audience=BASE, nonce=nonce)
    _error(_ask(client, access, f"{world.mc.slug}_ldp_vc", proof), 400, "invalid_nonce")


def test_a_proof_signed_by_another_key_is_invalid_proof(
    client: TestClient, world: World, engine: Engine
) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    me, thief = Holder.ed25519(), Holder.ed25519()
    for use_jwk in (False, True):
        # the header names my key; the signature is the thief's
        forged = thief.proof(
            audience=BASE,
            nonce=_nonce(client),
            header={"kid": me.kid} if not use_jwk else {"jwk": _jwk_of(me)},
            use_jwk=use_jwk,
        )
        described = _error(
            _ask(client, access, f"{world.mc.slug}_ldp_vc", forged), 400, "invalid_proof"
        )
        assert "does not verify" in described
    with Session(engine) as fresh:
        assert fresh.exec(select(WalletCopy)).all() == []


def _jwk_of(holder: Holder) -> dict[str, str]:
    return public_jwk(holder.signer.public_key)


@pytest.mark.parametrize(
    ("header", "claims", "message"),
    [
        ({"typ": "JWT"}, {}, "typ must be openid4vci-proof+jwt"),
        ({"alg": "RS256"}, {}, "alg must be one of"),
        ({"x5c": ["MIIB"]}, {}, "x5c header is not supported"),
        ({"kid": "did:web:evil.example#key-1"}, {}, "kid must be a did:key"),
        ({}, {"aud": "https://elsewhere.example"}, "aud must be the Credential Issuer"),
        ({}, {"iat": 1}, "too old"),
        ({}, {"iat": 4_000_000_000}, "in the future"),
        ({}, {"iat": "now"}, "no iat"),
        ({}, {"iat": float("nan")}, "no iat"),
        ({}, {"exp": float("nan")}, "expired"),
        ({}, {"exp": 1}, "expired"),
    ],
)
def test_malformed_proofs_are_invalid_proof(
    client: TestClient,
    world: World,
    engine: Engine,
    header: dict[str, Any],
    claims: dict[str, Any],
    message: str,
) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    proof = Holder.ed25519().proof(
        audience=BASE, nonce=_nonce(client), header=header, claims=claims
    )
    described = _error(_ask(client, access, f"{world.mc.slug}_ldp_vc", proof), 400, "invalid_proof")
    assert message in described


def test_a_proof_with_both_kid_and_jwk_is_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    me = Holder.ed25519()
    proof = me.proof(audience=BASE, nonce=_nonce(client), use_jwk=True, header={"kid": me.kid})
    assert "exactly one of kid and jwk" in _error(
        _ask(client, access, f"{world.mc.slug}_ldp_vc", proof), 400, "invalid_proof"
    )


def test_a_badge_bound_to_a_did_goes_only_to_that_key(
    client: TestClient, world: World, engine: Engine
) -> None:
    owner = Holder.ed25519()
    out = _issue(client, world, did=owner.did)
    access = _access(client, _offer(engine, out["id"]).code)
    config = f"{world.mc.slug}_ldp_vc"
    other = Holder.ed25519().proof(audience=BASE, nonce=_nonce(client))
    assert "another DID" in _error(_ask(client, access, config, other), 400, "invalid_proof")
    mine = owner.proof(audience=BASE, nonce=_nonce(client))
    assert _ask(client, access, config, mine).status_code == 200


# --- transaction codes ---------------------------------------------------------------------


def _mailed_tx_code(settings: Settings) -> str:
    import email
    import email.policy
    import re

    [path] = sorted((settings.data_dir / "outbox").glob("*.eml"))[-1:]
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = present(message.get_body(("plain",))).get_content()
    [code] = re.findall(r"^\s+(\d{6})$", text, flags=re.MULTILINE)
    return code


def test_tx_code_is_required_checked_and_limited(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    out = _issue(client, world)
    offer = _offer(engine, out["id"], tx_code=True)
    assert offer.tx_code is not None
    described = client.get(offer_path(offer.link)).json()["grants"][PRE_AUTHORIZED]["tx_code"]
    assert described["input_mode"] == "numeric" and described["length"] == 6
    assert len(described["description"]) <= 300
    _error(_token(client, offer.code), 400, "invalid_request")  # missing
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    for _ in range(offers.MAX_TX_CODE_FAILURES):
        _error(_token(client, offer.code, tx_code=wrong), 400, "invalid_grant")
    # the right code is too late now: the offer is dead after five wrong ones
    _error(_token(client, offer.code, tx_code=offer.tx_code), 400, "invalid_grant")

    fresh = _offer(engine, out["id"], tx_code=True)
    assert _token(client, fresh.code, tx_code=fresh.tx_code or "").status_code == 200
    plain = _offer(engine, out["id"])
    _error(_token(client, plain.code, tx_code="123456"), 400, "invalid_request")  # not asked


# --- malformed requests: the specs' errors, never a 500 ------------------------------------


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({"grant_type": PRE_AUTHORIZED}, "invalid_request"),
        ({"grant_type": PRE_AUTHORIZED, "pre-authorized_code": ""}, "invalid_request"),
    ],
)
def test_malformed_token_requests(client: TestClient, form: dict[str, str], code: str) -> None:
    _error(client.post("/oid4vci/token", data=form), 400, code)


def test_token_request_shapes_are_refused(client: TestClient, world: World, engine: Engine) -> None:
    code = _offer(engine, _issue(client, world)["id"]).code
    body = f"grant_type={PRE_AUTHORIZED}&pre-authorized_code={code}"
    _error(
        client.post("/oid4vci/token", json={"grant_type": PRE_AUTHORIZED}), 400, "invalid_request"
    )
    repeated = f"{body}&pre-authorized_code={code}"
    _error(client.post("/oid4vci/token", content=repeated, headers=FORM), 400, "invalid_request")
    _error(client.post("/oid4vci/token", content=b"\xff\xfe", headers=FORM), 400, "invalid_request")
    _error(
        client.post("/oid4vci/token", content="a=" + "x" * 20_000, headers=FORM),
        400,
        "invalid_request",
    )
    many = "&".join(f"f{i}=1" for i in range(50))
    _error(client.post("/oid4vci/token", content=many, headers=FORM), 400, "invalid_request")
    details = '[{"type": "openid_credential", "credential_configuration_id": "nope"}]'
    _error(_token(client, code, authorization_details=details), 400, "invalid_request")
    _error(_token(client, code, authorization_details="{"), 400, "invalid_request")
    # none of those spent the code
    ok = _token(
        client, code, authorization_details=details.replace("nope", f"{world.mc.slug}_jwt_vc_json")
    )
    assert ok.status_code == 200, ok.text
    [detail] = ok.json()["authorization_details"]
    assert detail["credential_identifiers"] == [f"{world.mc.slug}_jwt_vc_json"]
    # the identifier it names is what the credential request then uses (§8.2)
    access = ok.json()["access_token"]
    proof = Holder.p256().proof(audience=BASE, nonce=_nonce(client))
    request = {"credential_identifier": f"{world.mc.slug}_jwt_vc_json", "proofs": {"jwt": [proof]}}
    answer = _request(client, access, request)
    assert answer.status_code == 200, answer.text
    assert isinstance(answer.json()["credentials"][0]["credential"], str)  # a VC-JWT


def test_credential_endpoint_refusals(client: TestClient, world: World, engine: Engine) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    config = f"{world.mc.slug}_ldp_vc"
    proof = Holder.ed25519().proof(audience=BASE, nonce=_nonce(client))

    no_token = client.post("/oid4vci/credential", json={"credential_configuration_id": config})
    _error(no_token, 401, "invalid_token")
    assert no_token.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    _error(_request(client, "wrong", {}), 401, "invalid_token")
    _error(
        _request(client, access, {}, headers={"authorization": f"Basic {access}"}),
        401,
        "invalid_token",
    )

    cases: list[tuple[Any, bytes | None, str]] = [
        (None, b"not json", "invalid_credential_request"),
        (None, b"\xff", "invalid_credential_request"),
        (None, b"[" * 100_000, "invalid_credential_request"),
        (None, b'{"a": 1, "a": 2}', "invalid_credential_request"),
        ([1, 2], None, "invalid_credential_request"),
        ({}, None, "invalid_credential_request"),
        ({"credential_configuration_id": 7}, None, "invalid_credential_request"),
        ({"credential_configuration_id": "nope"}, None, "unknown_credential_configuration"),
        ({"credential_configuration_id": "nope_ldp_vc"}, None, "unknown_credential_configuration"),
        ({"credential_identifier": "nope"}, None, "unknown_credential_identifier"),
        (
            {"credential_configuration_id": config, "credential_identifier": config},
            None,
            "invalid_credential_request",
        ),
        ({"credential_configuration_id": config}, None, "invalid_proof"),
        (
            {"credential_configuration_id": config, "proof": {"proof_type": "jwt", "jwt": proof}},
            None,
            "invalid_credential_request",
        ),
        ({"credential_configuration_id": config, "proofs": []}, None, "invalid_credential_request"),
        (
            {"credential_configuration_id": config, "proofs": {"jwt": []}},
            None,
            "invalid_credential_request",
        ),
        (
            {"credential_configuration_id": config, "proofs": {"jwt": [proof, proof]}},
            None,
            "invalid_credential_request",
        ),
        ({"credential_configuration_id": config, "proofs": {"di_vp": [{}]}}, None, "invalid_proof"),
        ({"credential_configuration_id": config, "proofs": {"jwt": [7]}}, None, "invalid_proof"),
        (
            {"credential_configuration_id": config, "proofs": {"jwt": ["a.b.c"]}},
            None,
            "invalid_proof",
        ),
        (
            {"credential_configuration_id": config, "proofs": {"jwt": ["x" * 9000]}},
            None,
            "invalid_proof",
        ),
        ({"credential_configuration_id": config, "proofs": {"jwt": [None]}}, None, "invalid_proof"),
    ]
    for body, raw, code in cases:
        _error(_request(client, access, body, raw=raw), 400, code)
    _error(_request(client, access, None, raw=b"x" * 70_000), 400, "invalid_credential_request")
    _error(
        _request(client, access, {}, headers={"content-type": "text/plain"}),
        400,
        "invalid_credential_request",
    )
    # another micro-credential's configuration: known, but not this token's
    other = _offer_other(client, world)
    _error(_ask(client, access, other, proof), 403, "insufficient_scope")
    # after all that the proof's nonce is unspent and the request goes through
    assert _ask(client, access, config, proof).status_code == 200


def _offer_other(client: TestClient, world: World) -> str:
    configs = client.get("/.well-known/openid-credential-issuer").json()
    ids = configs["credential_configurations_supported"]
    return next(i for i in ids if i.startswith("OpenBadgeCredential_"))


def test_an_access_token_expires_and_is_bounded(
    client: TestClient, world: World, engine: Engine
) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    config = f"{world.mc.slug}_jwt_vc_json"
    for _ in range(offers.MAX_COPIES):
        proof = Holder.p256().proof(audience=BASE, nonce=_nonce(client))
        assert _ask(client, access, config, proof).status_code == 200
    proof = Holder.p256().proof(audience=BASE, nonce=_nonce(client))
    _error(_ask(client, access, config, proof), 401, "invalid_token")

    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    with session_scope(engine) as session:
        for row in session.exec(select(WalletOffer).where(WalletOffer.copies == 0)):
            row.token_expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
    proof = Holder.p256().proof(audience=BASE, nonce=_nonce(client))
    _error(_ask(client, access, config, proof), 401, "invalid_token")


def test_a_revoked_or_suspended_award_is_not_offered_nor_issued(
    client: TestClient, world: World, engine: Engine
) -> None:
    out = _issue(client, world)
    access = _access(client, _offer(engine, out["id"]).code)
    revoked = client.post(
        f"/api/v1/credentials/{out['id']}/revoke", json={"reason": "x"}, headers=_auth(world)
    )
    assert revoked.status_code == 200, revoked.text
    proof = Holder.ed25519().proof(audience=BASE, nonce=_nonce(client))
    _error(_ask(client, access, f"{world.mc.slug}_ldp_vc", proof), 400, "credential_request_denied")
    from catalogue.errors import Conflict

    with pytest.raises(Conflict, match="revoked"):
        _offer(engine, out["id"])


# --- the learner's offer on the manage page ------------------------------------------------


def test_the_learner_gets_a_qr_code_and_link_that_a_wallet_redeems(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    import base64
    import re

    from tests.badges.sharing.test_learner import _claim, _claim_link, _outbox
    from tests.support.csrf import csrf_fields

    out = _issue(client, world)
    _claim(client, _claim_link(_outbox(settings)[-1]))
    manage = client.get(f"/credentials/{out['id']}/manage").text
    assert f'action="/credentials/{out["id"]}/manage/wallet"' in manage

    stranger = TestClient(client.app)
    refused = stranger.post(f"/credentials/{out['id']}/manage/wallet", data=csrf_fields(stranger))
    assert refused.status_code == 403
    with Session(engine) as fresh:
        assert fresh.exec(select(WalletOffer)).all() == []

    page = client.post(
        f"/credentials/{out['id']}/manage/wallet", data={"tx_code": "1"} | csrf_fields(client)
    )
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "private, no-store"
    [link] = re.findall(r'href="(openid-credential-offer://[^"]+)"', page.text)
    [data] = re.findall(r'src="data:image/png;base64,([^"]+)"', page.text)
    png = base64.b64decode(data)
    decoded = read_qr(png)
    assert decoded == link.replace("&amp;", "&")
    assert "e-mailed you a 6-digit transaction code" in page.text

    offered = client.get(offer_path(decoded)).json()
    code = offered["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
    tx_code = _mailed_tx_code(settings)
    access = _token(client, code, tx_code=tx_code).json()["access_token"]
    proof = Holder.ed25519().proof(audience=BASE, nonce=_nonce(client))
    assert _ask(client, access, f"{world.mc.slug}_ldp_vc", proof).status_code == 200


@pytest.mark.parametrize(
    ("accept", "language", "subject", "enter", "works_once"),
    [
        (
            None,
            "en",
            "Your code for adding a badge to your wallet",
            "Hello,\n\nYou asked to add your badge to a digital wallet. When the wallet asks for "
            "a transaction code, enter:",
            "The code works once, until {until}. If you did not ask for it, ignore this message",
        ),
        (
            "de, en;q=0.5",
            "de",
            "Ihr Code, um ein Badge in Ihre Wallet aufzunehmen",
            "Guten Tag,\n\nSie möchten Ihr Badge in eine digitale Wallet aufnehmen. Wenn die "
            "Wallet nach einem Transaktionscode fragt, geben Sie ein:",
            "Der Code gilt einmal, bis zum {until}. Wenn Sie ihn nicht angefordert haben, "
            "ignorieren Sie diese Nachricht",
        ),
    ],
    ids=["en", "de"],
)
def test_the_transaction_code_email_speaks_the_language_of_the_wallet_page(
    client: TestClient,
    world: World,
    settings: Settings,
    engine: Engine,
    accept: str | None,
    language: str,
    subject: str,
    enter: str,
    works_once: str,
) -> None:
    from tests.badges.sharing.test_learner import _claim, _claim_link, _outbox
    from tests.support.csrf import csrf_fields

    out = _issue(client, world)
    _claim(client, _claim_link(_outbox(settings)[-1]))
    page = client.post(
        f"/credentials/{out['id']}/manage/wallet",
        data={"tx_code": "1"} | csrf_fields(client),
        headers={"accept-language": accept} if accept else {},
    )
    assert page.status_code == 200, page.text
    message = _outbox(settings)[-1]
    assert message["Subject"] == subject and message["Content-Language"] == language
    with Session(engine) as fresh:
        [row] = fresh.exec(select(WalletOffer)).all()
    text = plain_text(message)
    assert text.startswith(enter + "\n\n    ")
    assert works_once.format(until=until_words(row.expires_at, language)) in text
    assert len(_mailed_tx_code(settings)) == 6


def test_a_nonce_is_spent_once_under_concurrency(client: TestClient, engine: Engine) -> None:
    nonce = _nonce(client)
    start = threading.Barrier(6)

    def spend(_: int) -> bool:
        start.wait()
        with session_scope(engine) as session:
            return offers.spend_nonce(session, nonce)

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(spend, range(6))) == [False] * 5 + [True]


HOSTILE: list[Any] = [
    None,
    True,
    0,
    -1,
    1e308,
    "",
    "\u0000",
    "\ud800",
    "x" * 10_000,
    [],
    [None],
    {},
    {"jwt": None},
    {"jwt": {}},
    {"jwt": [[]]},
    {"jwt": [{}]},
    {"jwt": ["\u0000.\u0000.\u0000"]},
    {"jwt": ["e30.e30.e30"]},
    {"jwt": ["eyJ0eXAiOiJvcGVuaWQ0dmNpLXByb29mK2p3dCIsImFsZyI6IkVkRFNBIiwiandrIjpbXX0.e30.AA"]},
    {
        "jwt": [
            "eyJ0eXAiOiJvcGVuaWQ0dmNpLXByb29mK2p3dCIsImFsZyI6IkVkRFNBIiwia2lkIjoiZGlkOmtleTp6In0.e30.AA"
        ]
    },
]


@pytest.mark.parametrize(
    "member", ["credential_configuration_id", "credential_identifier", "proofs"]
)
def test_hostile_members_are_4xx_in_the_specs_words(
    client: TestClient, world: World, engine: Engine, member: str
) -> None:
    access = _access(client, _offer(engine, _issue(client, world)["id"]).code)
    base: dict[str, Any] = {"credential_configuration_id": f"{world.mc.slug}_ldp_vc"}
    for value in HOSTILE:
        body = dict(base)
        if member == "credential_identifier":
            body = {}
        body[member] = value
        raw = json.dumps(body).encode() if value != "\ud800" else None
        response = (
            _request(client, access, body, raw=raw)
            if raw
            else _request(client, access, None, raw=json.dumps(body, ensure_ascii=True).encode())
        )
        assert 400 <= response.status_code < 500, (value, response.text)
        assert isinstance(response.json()["error"], str), (value, response.text)
    # the token still works: nothing was spent by the refusals
    proof = Holder.ed25519().proof(audience=BASE, nonce=_nonce(client))
    assert _ask(client, access, base["credential_configuration_id"], proof).status_code == 200


def test_metadata_under_a_base_url_with_a_path(settings: Settings, engine: Engine) -> None:
    from skillshub.web.app import create_app

    app = create_app(
        settings.model_copy(update={"base_url": "https://hub.example/skills"}), engine=engine
    )
    with TestClient(app) as client:
        found = client.get("/.well-known/openid-credential-issuer/skills")
        assert found.status_code == 200
        assert found.json()["credential_issuer"] == "https://hub.example/skills"
        server = client.get("/.well-known/oauth-authorization-server/skills").json()
        assert server["token_endpoint"] == "https://hub.example/skills/oid4vci/token"
        assert client.get("/.well-known/openid-credential-issuer").status_code == 404
        assert client.get("/.well-known/openid-credential-issuer/other").status_code == 404
