"""Revocation and suspension through the real app, the service and the CLI, on both databases.

Every check of a list reads what the app serves (or the stored rows), decodes the bitstring
and compares it bit for bit with the list before the change.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from badges import issuing
from badges.models import IssuedCredential, StatusAllocation, StatusChange, StatusList
from badges.proofs import eddsa_rdfc_2022, vc_jwt
from badges.status import bitstring
from badges.status import lists as status
from catalogue.base import pk
from catalogue.errors import Conflict, NotFound
from keys.did import resolve_did_key
from keys.multikey import decode_public_key
from skillshub.cli import app
from skillshub.settings import Settings
from tests.support.reference import reference
from tests.support.world import World, make_world

BASE_URL = "http://testserver"
BIT_STRING_LIST = ("ob3", "examples", "1edtech-validator-ob30", "bit-string-list")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Both purposes: these tests suspend as well as revoke (the default is revocation)."""
    return settings.model_copy(update={"status_purposes": status.PURPOSES})


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _issue(client: TestClient, world: World, **fields: Any) -> dict[str, Any]:
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": "ada@example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body | fields, headers=_auth(world)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _entry(credential: dict[str, Any], purpose: str) -> dict[str, Any]:
    return next(e for e in credential["credentialStatus"] if e["statusPurpose"] == purpose)


def _served_bits(client: TestClient, url: str) -> bytearray:
    response = client.get(url, headers={"accept": "application/ld+json"})
    assert response.status_code == 200, response.text
    return bitstring.decode(response.json()["credentialSubject"]["encodedList"])


def _set_indexes(bits: bytes | bytearray) -> set[int]:
    return {i for i in range(len(bits) * 8) if bitstring.get_bit(bits, i)}


def _changed_bits(before: bytes | bytearray, after: bytes | bytearray) -> set[int]:
    assert len(before) == len(after)
    return {
        i
        for i in range(len(before) * 8)
        if bitstring.get_bit(before, i) != bitstring.get_bit(after, i)
    }


def _lists(engine: Engine) -> dict[tuple[str, int], tuple[int, bytes, str, str]]:
    """Every stored list as (version, bits, signed JSON-LD, signed JWT), read afresh."""
    with Session(engine) as fresh:
        return {
            (sl.purpose, sl.seq): (sl.version, sl.bits, sl.credential_ldp, sl.credential_jwt)
            for sl in fresh.exec(select(StatusList))
        }


def _action(client: TestClient, world: World, credential_id: str, action: str, **body: Any):
    return client.post(
        f"/api/v1/credentials/{credential_id}/{action}", json=body or None, headers=_auth(world)
    )


# --- the served list follows every change, and only that change -------------------------------


def test_revoked_bit_is_set_in_the_next_served_list_and_no_other_bit_changed(
    client: TestClient, world: World, engine: Engine
) -> None:
    issued = [_issue(client, world, external_id=f"e{n}") for n in range(3)]
    target = issued[1]["credential"]
    revocation = _entry(target, "revocation")
    suspension_url = _entry(target, "suspension")["statusListCredential"]
    before = _served_bits(client, revocation["statusListCredential"])
    suspension_before = _served_bits(client, suspension_url)
    assert _set_indexes(before) == set()

    response = _action(client, world, issued[1]["id"], "revoke", reason="issued in error")
    assert response.status_code == 200, response.text
    assert response.json()["revoked"] is True

    after = _served_bits(client, revocation["statusListCredential"])
    assert _changed_bits(before, after) == {int(revocation["statusListIndex"])}
    assert _served_bits(client, suspension_url) == suspension_before
    for other in (issued[0], issued[2]):
        index = int(_entry(other["credential"], "revocation")["statusListIndex"])
        assert not bitstring.get_bit(after, index)
    # The stored list agrees with the served one, at the next version.
    stored = _lists(engine)[("revocation", 1)]
    assert (stored[0], stored[1]) == (2, bytes(after))


def test_suspend_unsuspend_round_trip_sets_then_clears_the_bit(
    client: TestClient, world: World, engine: Engine
) -> None:
    out = _issue(client, world)
    suspension = _entry(out["credential"], "suspension")
    index = int(suspension["statusListIndex"])
    url = suspension["statusListCredential"]
    revocation_before = _lists(engine)[("revocation", 1)]
    before = _served_bits(client, url)

    suspended = _action(client, world, out["id"], "suspend", reason="appeal pending")
    assert suspended.status_code == 200, suspended.text
    assert (suspended.json()["suspended"], suspended.json()["revoked"]) == (True, False)
    during = _served_bits(client, url)
    assert _changed_bits(before, during) == {index}

    again = _action(client, world, out["id"], "suspend")
    assert again.status_code == 409  # already suspended

    lifted = _action(client, world, out["id"], "unsuspend", reason="appeal upheld")
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["suspended"] is False
    assert _served_bits(client, url) == before
    assert _lists(engine)[("suspension", 1)][0] == 3  # two republications
    assert _lists(engine)[("revocation", 1)] == revocation_before
    history = [(h["action"], h["reason"], h["actor"]) for h in lifted.json()["history"]]
    actor = f"organisation:{world.org.slug}"
    assert history == [("suspend", "appeal pending", actor), ("unsuspend", "appeal upheld", actor)]
    assert _action(client, world, out["id"], "unsuspend").status_code == 409  # not suspended


def test_revocation_is_final(client: TestClient, world: World, engine: Engine) -> None:
    out = _issue(client, world)
    assert _action(client, world, out["id"], "suspend").status_code == 200
    assert _action(client, world, out["id"], "revoke").status_code == 200
    lists = _lists(engine)
    for action in ("unsuspend", "revoke", "suspend"):
        response = _action(client, world, out["id"], action)
        assert response.status_code == 409, action
        assert "revocation is final" in response.json()["error"]["message"]
    assert _lists(engine) == lists
    with Session(engine) as fresh:
        actions = [c.action for c in fresh.exec(select(StatusChange))]
    assert actions == ["suspend", "revoke"]


# --- refusals: clear errors, no list changed ---------------------------------------------------


def test_unknown_and_foreign_credentials_are_refused_without_changing_lists(
    client: TestClient, world: World, session: Session, master_key: str, engine: Engine
) -> None:
    out = _issue(client, world)
    other = make_world(session, master_key, slug="otherco")
    lists = _lists(engine)

    unknown = _action(client, world, "00000000-0000-4000-8000-000000000000", "revoke")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    for action in ("revoke", "suspend", "unsuspend"):
        # Another organisation's credential is answered as an unknown one: no existence leak.
        foreign = _action(client, other, out["id"], action)
        assert foreign.status_code == 404, action
        assert foreign.json()["error"]["message"] == f"credential {out['id']!r} does not exist"
    assert _lists(engine) == lists

    assert _action(client, world, out["id"], "revoke").status_code == 200
    lists = _lists(engine)
    revoked_again = _action(client, world, out["id"], "revoke")
    assert revoked_again.status_code == 409
    assert _lists(engine) == lists


def test_service_refusals_are_domain_errors(world: World, session: Session) -> None:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada", "ada@example.org"),
        base_url=BASE_URL,
        status_purposes=status.PURPOSES,
    )
    change: dict[str, Any] = {"master_key": world.master_key, "actor": "test", "base_url": BASE_URL}
    with pytest.raises(NotFound):
        status.change_status(
            session, credential_uuid="nope", action="revoke", organisation_id=None, **change
        )
    with pytest.raises(NotFound, match="does not exist"):
        status.change_status(
            session,
            credential_uuid=record.uuid,
            action="revoke",
            organisation_id=(pk(world.org)) + 1,
            **change,
        )
    with pytest.raises(status.StatusError, match="unknown status action"):
        status.change_status(
            session, credential_uuid=record.uuid, action="delete", organisation_id=None, **change
        )
    status.change_status(
        session, credential_uuid=record.uuid, action="revoke", organisation_id=None, **change
    )
    with pytest.raises(Conflict, match="final"):
        status.change_status(
            session, credential_uuid=record.uuid, action="revoke", organisation_id=None, **change
        )


def _rewrite_stored_index(engine: Engine, credential_id: str, value: str) -> None:
    """Corrupt the stored signed text of a credential: its revocation statusListIndex."""
    with Session(engine) as fresh:
        record = fresh.exec(
            select(IssuedCredential).where(IssuedCredential.uuid == credential_id)
        ).one()
        if record.format == "ldp":
            document = json.loads(record.signed)
            _entry(document, "revocation")["statusListIndex"] = value
            record.signed = json.dumps(document)
        else:
            header, payload, signature = record.signed.split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            _entry(claims, "revocation")["statusListIndex"] = value
            raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            record.signed = f"{header}.{raw}.{signature}"
        fresh.add(record)
        fresh.commit()


@pytest.mark.parametrize(
    ("fmt", "value"),
    [("ldp", "12a"), ("ldp", "-1"), ("ldp", " 7"), ("ldp", ""), ("ldp", "²"), ("jwt", "0x10")],
)
def test_a_malformed_stored_index_is_a_clear_error_and_changes_no_list(
    client: TestClient, world: World, engine: Engine, fmt: str, value: str
) -> None:
    out = _issue(client, world, format=fmt)
    _rewrite_stored_index(engine, out["id"], value)
    lists = _lists(engine)
    response = _action(client, world, out["id"], "revoke")
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "status_error"
    assert "malformed revocation status index" in error["message"]
    assert _lists(engine) == lists
    with Session(engine) as fresh:
        record = fresh.exec(
            select(IssuedCredential).where(IssuedCredential.uuid == out["id"])
        ).one()
        assert record.revoked_at is None
        assert fresh.exec(select(StatusChange)).all() == []


def test_an_index_that_is_not_ours_is_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    first, second = _issue(client, world), _issue(client, world)
    # Point the first credential at the second one's index: well-formed, but not its own.
    stolen = _entry(second["credential"], "revocation")["statusListIndex"]
    _rewrite_stored_index(engine, first["id"], stolen)
    lists = _lists(engine)
    response = _action(client, world, first["id"], "revoke")
    assert response.status_code == 409
    assert "matches no list of ours" in response.json()["error"]["message"]
    assert _lists(engine) == lists


def test_equal_indexes_in_both_lists_resolve_to_the_right_list(
    client: TestClient, world: World, engine: Engine
) -> None:
    """Revocation and suspension indexes are drawn independently, so they can coincide."""
    out = _issue(client, world)
    index = _entry(out["credential"], "revocation")["statusListIndex"]
    with Session(engine) as fresh:
        suspension = fresh.exec(select(StatusList).where(StatusList.purpose == "suspension")).one()
        allocation = fresh.exec(
            select(StatusAllocation).where(
                StatusAllocation.credential_uuid == out["id"],
                StatusAllocation.list_id == suspension.id,
            )
        ).one()
        allocation.index = int(index)
        fresh.add(allocation)
        record = fresh.exec(
            select(IssuedCredential).where(IssuedCredential.uuid == out["id"])
        ).one()
        document = json.loads(record.signed)
        _entry(document, "suspension")["statusListIndex"] = index
        record.signed = json.dumps(document)
        fresh.add(record)
        fresh.commit()
    revocation_url = _entry(out["credential"], "revocation")["statusListCredential"]
    suspension_url = _entry(out["credential"], "suspension")["statusListCredential"]
    for action, url in (("suspend", suspension_url), ("revoke", revocation_url)):
        before = _served_bits(client, url)
        response = _action(client, world, out["id"], action)
        assert response.status_code == 200, (action, response.text)
        assert _changed_bits(before, _served_bits(client, url)) == {int(index)}


# --- serving: caching, conditional GET, both securing mechanisms -------------------------------


def test_etag_conditional_get_and_cache_control_from_ttl(client: TestClient, world: World) -> None:
    out = _issue(client, world)
    url = _entry(out["credential"], "revocation")["statusListCredential"]
    first = client.get(url, headers={"accept": "application/ld+json"})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/ld+json")
    ttl_ms = first.json()["credentialSubject"]["ttl"]
    assert f"max-age={ttl_ms // 1000}" in first.headers["cache-control"]
    etag = first.headers["etag"]

    cached = client.get(url, headers={"accept": "application/ld+json", "if-none-match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag

    jwt_form = client.get(url, headers={"accept": "application/vc+jwt", "if-none-match": etag})
    assert jwt_form.status_code == 200  # another representation, another ETag
    assert jwt_form.headers["etag"] != etag

    assert _action(client, world, out["id"], "revoke").status_code == 200
    changed = client.get(url, headers={"accept": "application/ld+json", "if-none-match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json() != first.json()

    assert client.get(f"/status/{world.issuer.slug}/revocation/99").status_code == 404
    assert client.get(f"/status/{world.issuer.slug}/refresh/1").status_code == 404
    assert client.get("/status/nobody/revocation/1").status_code == 404
    # Past the column's range: refused as input, not a database error.
    huge = client.get(f"/status/{world.issuer.slug}/revocation/{2**63}")
    assert huge.status_code == 422


def test_jwt_form_is_served_for_vc_jwt_and_carries_the_same_list(
    client: TestClient, world: World
) -> None:
    out = _issue(client, world)
    url = _entry(out["credential"], "suspension")["statusListCredential"]
    assert _action(client, world, out["id"], "suspend").status_code == 200
    ld = client.get(url, headers={"accept": "application/ld+json"}).json()
    response = client.get(url, headers={"accept": "application/vc+jwt"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vc+jwt")
    token = response.text
    header, _ = vc_jwt.decode_unverified(token)
    _, public_key = resolve_did_key(header["kid"])
    claims = vc_jwt.verify(token, public_key)
    assert claims["iss"] == world.issuer.did
    assert claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert claims["credentialSubject"] == ld["credentialSubject"]


def test_list_credential_verifies_with_the_same_proof_check_as_a_badge(
    client: TestClient, world: World
) -> None:
    out = _issue(client, world)
    assert _action(client, world, out["id"], "revoke").status_code == 200
    url = _entry(out["credential"], "revocation")["statusListCredential"]
    served = client.get(url, headers={"accept": "application/ld+json"}).json()
    assert served["issuer"] == world.issuer.did == out["credential"]["issuer"]["id"]
    proofs = served["proof"] if isinstance(served["proof"], list) else [served["proof"]]
    [proof] = proofs
    _, public_key = resolve_did_key(proof["verificationMethod"])
    badge_proof = out["credential"]["proof"][0]
    assert proof["verificationMethod"] == badge_proof["verificationMethod"]
    assert eddsa_rdfc_2022.verify_proof(served, proof, public_key).ok
    assert eddsa_rdfc_2022.verify_proof(out["credential"], badge_proof, public_key).ok
    # A list with its revoked bit cleared again no longer verifies.
    bits = bitstring.decode(served["credentialSubject"]["encodedList"])
    bitstring.set_bit(bits, int(_entry(out["credential"], "revocation")["statusListIndex"]), False)
    served["credentialSubject"]["encodedList"] = bitstring.encode(bits)
    assert not eddsa_rdfc_2022.verify_proof(served, proof, public_key).ok


def test_1edtech_fixture_list_reads_like_ours() -> None:
    """The 1EdTech list (bit 23 revoked) through the same decoder and proof check as ours."""
    fixture = json.loads(
        reference(*BIT_STRING_LIST, "testlist.status-list-credential.json").read_text()
    )
    revoked = json.loads(reference(*BIT_STRING_LIST, "credential-status-revoked.json").read_text())
    index = int(revoked["credentialStatus"]["statusListIndex"])
    bits = bitstring.decode(fixture["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == status.LIST_SIZE
    assert _set_indexes(bits) == {index} == {23}
    [proof] = fixture["proof"]
    public_key = decode_public_key(proof["verificationMethod"].split("#")[1])
    assert eddsa_rdfc_2022.verify_proof(fixture, proof, public_key).ok
    # Our encoding of the same bitstring decodes back to the fixture's bits.
    assert bitstring.decode(bitstring.encode(bits)) == bits


# --- the CLI ----------------------------------------------------------------------------------

runner = CliRunner()


def _said(result: Any) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _cli_env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_BASE_URL": BASE_URL,
    }


def test_cli_revoke_suspend_unsuspend(
    world: World, session: Session, engine: Engine, db_url: str, master_key: str, tmp_path: Path
) -> None:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada", "ada@example.org"),
        base_url=BASE_URL,
        status_purposes=status.PURPOSES,
    )
    session.commit()
    credential = json.loads(record.signed)
    env = _cli_env(tmp_path, db_url, master_key)

    def bits(purpose: str) -> bytes:
        return _lists(engine)[(purpose, 1)][1]

    def index(purpose: str) -> int:
        return int(_entry(credential, purpose)["statusListIndex"])

    suspended = runner.invoke(
        app, ["revoke", record.uuid, "--suspend", "--reason", "appeal"], env=env
    )
    assert suspended.exit_code == 0, suspended.output
    assert f"credential {record.uuid} is now suspended" in _said(suspended)
    assert _set_indexes(bits("suspension")) == {index("suspension")}

    lifted = runner.invoke(app, ["revoke", record.uuid, "--unsuspend"], env=env)
    assert lifted.exit_code == 0, lifted.output
    assert "is now active" in _said(lifted)
    assert _set_indexes(bits("suspension")) == set()

    both = runner.invoke(app, ["revoke", record.uuid, "--suspend", "--unsuspend"], env=env)
    assert both.exit_code == 2
    assert "choose one" in _said(both)

    # The id `issue` prints names the credential as well as its UUID (issue 15).
    revoked = runner.invoke(app, ["revoke", credential["id"], "--reason", "fraud"], env=env)
    assert credential["id"] == f"{BASE_URL}/credentials/{record.uuid}"
    assert revoked.exit_code == 0, revoked.output
    assert "is now revoked" in _said(revoked)
    assert _set_indexes(bits("revocation")) == {index("revocation")}

    lists = _lists(engine)
    again = runner.invoke(app, ["revoke", record.uuid, "--unsuspend"], env=env)
    assert again.exit_code == 1
    assert "revocation is final" in _said(again)
    unknown = runner.invoke(app, ["revoke", "00000000-0000-4000-8000-000000000000"], env=env)
    assert unknown.exit_code == 1
    assert "does not exist" in _said(unknown)
    assert _lists(engine) == lists

    with Session(engine) as fresh:
        changes = [(c.action, c.reason, c.actor) for c in status.history(fresh, record.uuid)]
    assert changes == [
        ("suspend", "appeal", "cli"),
        ("unsuspend", None, "cli"),
        ("revoke", "fraud", "cli"),
    ]


def test_a_batch_draws_its_indexes_from_one_stripe_spread_over_the_list(
    world: World, session: Session
) -> None:
    """Concurrent batches rarely wait on each other's uncommitted indexes: each draws from one
    of 16 interleaved stripes; the indexes still span the list, in no order of issuance."""
    uuids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(250)]
    entries = status.allocate_many(
        session, world.master_key, issuer=world.issuer, base_url=BASE_URL, credential_uuids=uuids
    )
    indexes = [int(entries[u][0]["statusListIndex"]) for u in uuids]
    assert len(set(indexes)) == 250
    assert len({index % 16 for index in indexes}) == 1
    assert max(indexes) - min(indexes) > status.LIST_SIZE // 2
    assert indexes != sorted(indexes)
