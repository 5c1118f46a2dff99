"""OpenID4VCI costs: each step of the pre-authorized code flow through the app in process, as
medians in ms, per database (SQLite, and PostgreSQL when SKILLSHUB_TEST_POSTGRES_URL's server
answers): making the offer, the token request, a nonce, and the credential request in each
format (key proof checked, nonce spent, the copy re-bound, signed and recorded).

Run: .venv/bin/python benchmarks/oid4vci.py [rounds]
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlmodel import Session

from badges import issuing
from badges.proofs import vc_jwt
from badges.wallet import offers
from keys.did import did_key_from_public_key
from keys.multikey import encode_public_key
from keys.sealing import generate_master_key
from keys.signer import KeySigner
from keys.store import ensure_master_key
from skillshub.db import make_engine
from skillshub.demo import make_world
from skillshub.devsupport import bench_database, postgres_unreachable_reason
from skillshub.settings import Settings
from skillshub.web.app import create_app

BASE_URL = "http://testserver"
GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f}"


def _timed(samples: list[float], call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    result = call(*args, **kwargs)
    samples.append(time.perf_counter() - started)
    return result


def _proof(signer: KeySigner, nonce: str) -> str:
    multibase = encode_public_key(signer.public_key)  # type: ignore[arg-type]
    did = did_key_from_public_key(signer.public_key)  # type: ignore[arg-type]
    header = {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": f"{did}#{multibase}"}
    payload = json.dumps({"aud": BASE_URL, "iat": int(time.time()), "nonce": nonce}).encode()
    return vc_jwt.sign_compact_jws(header, payload, signer)


def run(url: str, rounds: int) -> dict[str, list[float]]:
    key_text = generate_master_key()
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        ensure_master_key(session, key_text)
        world = make_world(session, key_text)
        record = issuing.issue(
            session,
            world.master_key,
            issuer=world.issuer,
            micro_credential=world.mc,
            recipient=issuing.Recipient(name="Ada Lovelace", email="ada@example.org"),
            base_url=BASE_URL,
        )
        session.commit()
    figures: dict[str, list[float]] = {
        k: [] for k in ("offer", "token", "nonce", "credential ldp_vc", "credential jwt_vc_json")
    }
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            data_dir=Path(data),
            database_url=url,
            master_key=key_text,
            base_url=BASE_URL,
            rate_limit_enabled=False,
        )
        signer = KeySigner(Ed25519PrivateKey.generate(), "EdDSA", "", None)
        with TestClient(create_app(settings, engine=engine)) as client:
            for _ in range(rounds):

                def make() -> offers.Offer:
                    with Session(engine, expire_on_commit=False) as session:
                        made = offers.create_offer(
                            session, record, base_url=BASE_URL, ttl=timedelta(minutes=5)
                        )
                        session.commit()
                        return made

                offer = _timed(figures["offer"], make)
                form = {"grant_type": GRANT, "pre-authorized_code": offer.code}
                token = _timed(figures["token"], client.post, "/oid4vci/token", data=form)
                access = token.json()["access_token"]
                for fmt in ("ldp_vc", "jwt_vc_json"):
                    nonce = _timed(figures["nonce"], client.post, "/oid4vci/nonce")
                    body = {
                        "credential_configuration_id": f"{world.mc.slug}_{fmt}",
                        "proofs": {"jwt": [_proof(signer, nonce.json()["c_nonce"])]},
                    }
                    answer = _timed(
                        figures[f"credential {fmt}"],
                        client.post,
                        "/oid4vci/credential",
                        json=body,
                        headers={"authorization": f"Bearer {access}"},
                    )
                    assert answer.status_code == 200, answer.text
    engine.dispose()
    return figures


def main() -> None:
    logging.disable(logging.INFO)
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    kinds = ["sqlite"] + ([] if postgres_unreachable_reason() else ["postgresql"])
    print(f"OpenID4VCI flow, {rounds} rounds, median ms")
    print(f"{'step':26} " + " ".join(f"{k:>10}" for k in kinds))
    results = {}
    for kind in kinds:
        with bench_database(kind) as url:
            results[kind] = run(url, rounds)
    for step in results["sqlite"]:
        print(f"{step:26} " + " ".join(f"{_ms(results[k][step]):>10}" for k in kinds))
    if "postgresql" not in kinds:
        print("postgresql: skipped (server not reachable)")


if __name__ == "__main__":
    main()
