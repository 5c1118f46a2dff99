"""VC-API costs (issue 15): what the conformance work adds, as medians in ms.

- the VC Data Model rules on an OB 3.0 credential (openbadges_schemas.vc_data_model);
- verifying one proof, a proof set of 3 and a chain of 3 (badges.verifying.service.verify);
- a presentation carrying 1 and 4 credentials (badges.verifying.presentations);
- POST /credentials/issue through the app in process (SQLite), checks, status entry, proof
  and the stored record included; POST /credentials/verify of what it issued.

Offline verifier, did:key signers, no fetches. Run: .venv/bin/python benchmarks/vc_api.py [rounds]
"""

from __future__ import annotations

import functools
import logging
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from badges.proofs import eddsa_rdfc_2022
from badges.verifying import Fetcher, FetchPolicy, VerificationContext, verify
from badges.verifying.presentations import verify_presentation
from keys.did import did_key_from_public_key, did_key_verification_method
from keys.sealing import generate_master_key
from keys.signer import KeySigner, from_private_key
from openbadges_schemas.vc_data_model import credential_problems
from skillshub.db import make_engine, upgrade
from skillshub.demo import make_world
from skillshub.settings import Settings
from skillshub.web.app import create_app

VOCAB = {"@vocab": "https://skillshub.example/vocab#"}


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm caches (resolved contexts)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def signer() -> tuple[KeySigner, str]:
    key = Ed25519PrivateKey.generate()
    method = did_key_verification_method(key.public_key())
    return from_private_key(key, verification_method=method), did_key_from_public_key(
        key.public_key()
    )


def plain_vc(issuer: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", VOCAB],
        "id": "urn:uuid:9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "skill": "welding"},
    }


def pure_figures(rounds: int) -> None:
    context = VerificationContext(fetcher=Fetcher(FetchPolicy(offline=True)))
    issuer, did = signer()
    one = eddsa_rdfc_2022.create_proof(plain_vc(did), signer=issuer, proof_id="urn:p:0")
    proof_set, chain = one, one
    for n in (1, 2):
        proof_set = eddsa_rdfc_2022.create_proof(proof_set, signer=signer()[0])
        chain = eddsa_rdfc_2022.create_proof(
            chain, signer=signer()[0], proof_id=f"urn:p:{n}", previous_proof=f"urn:p:{n - 1}"
        )
    rules = median_ms(lambda: credential_problems(one), rounds)
    print(f"VC DM rules, one credential       {rules:8.3f} ms")
    for label, document in (("1 proof", one), ("a set of 3", proof_set), ("a chain of 3", chain)):
        assert verify(context, document).verdict == "valid", label
        ms = median_ms(functools.partial(verify, context, document), rounds)
        print(f"verify, {label:26} {ms:8.2f} ms")
    holder, holder_did = signer()
    for count in (1, 4):
        vp = eddsa_rdfc_2022.create_proof(
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiablePresentation"],
                "holder": holder_did,
                "verifiableCredential": [one] * count,
            },
            signer=holder,
            proof_purpose="authentication",
            challenge="c",
        )
        assert verify_presentation(context, vp, challenge="c").verdict.value == "valid"
        ms = median_ms(functools.partial(verify_presentation, context, vp, challenge="c"), rounds)
        print(f"presentation with {count} credential(s)   {ms:8.2f} ms")


def http_figures(rounds: int) -> None:
    with warnings.catch_warnings():  # Starlette's advice to move to httpx2: the client's only
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory() as data_dir:
        master_key = generate_master_key()
        engine = make_engine(f"sqlite:///{Path(data_dir) / 'bench.db'}")
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, master_key)
            session.commit()
            issuer_did, token = world.issuer.did, world.token
        settings = Settings(
            data_dir=Path(data_dir),
            master_key=master_key,
            rate_limit_enabled=False,
            fetch_offline=True,
        )
        auth = {"authorization": f"Bearer {token}"}
        body = {"credential": plain_vc(issuer_did), "options": {}}
        with TestClient(create_app(settings, engine=engine)) as client:
            issued: list[dict[str, Any]] = []

            def issue() -> None:
                response = client.post("/credentials/issue", json=body, headers=auth)
                assert response.status_code == 201, response.text
                issued.append(response.json()["verifiableCredential"])

            print(f"POST /credentials/issue            {median_ms(issue, rounds):8.2f} ms")
            one = {"verifiableCredential": issued[0]}

            def check() -> None:
                assert client.post("/credentials/verify", json=one).json()["verified"]

            print(f"POST /credentials/verify           {median_ms(check, rounds):8.2f} ms")


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    pure_figures(rounds)
    http_figures(rounds)


if __name__ == "__main__":
    main()
