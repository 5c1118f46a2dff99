"""A hostile credential against the public verifier, and what it does to issuing.

The outside review's credential: ~200 KB, 900 alignments, 50 bogus proofs by the issuer's key
(each proof used to re-canonicalize the whole document: a minute of CPU). Also its sharper
variant with 8 bogus proofs, the most the verifier checks, so the document really is
canonicalized. Prints, over real HTTP (`skillshub serve` in its own process, the demo
providers, an offline verifier; PostgreSQL when it answers at SKILLSHUB_TEST_POSTGRES_URL, a
fresh database dropped after, else SQLite):

- POST /api/v1/verify with each, one at a time (goal: an answer within 2 s);
- the latency of a normal issue (POST /api/v1/issuers/{slug}/credentials) alone, and with 4
  hostile verifications in flight all along (goal: under 100 ms).

Run: .venv/bin/python benchmarks/hostile_verify.py [--rounds 5] [--issues 20] [--sqlite]
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from badges.models import Issuer
from badges.proofs import eddsa_rdfc_2022
from badges.proofs.data_integrity import encode_proof_value
from catalogue.models import Course, MicroCredential
from keys.did import did_key_from_public_key, did_key_verification_method
from keys.sealing import generate_master_key
from keys.signer import from_private_key
from keys.tokens import create_token
from skillshub.db import make_engine, upgrade
from skillshub.demo import load_demo
from skillshub.settings import Settings

MICRO_CREDENTIAL = "bms-engineer"  # a demo micro-credential
ALIGNMENTS = 900
REQUEST_TIMEOUT = 300.0  # the unbounded verifier took a minute per request
POSTGRES_ADMIN_URL = os.environ.get(
    "SKILLSHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def database(data_dir: Path, sqlite: bool) -> Iterator[str]:
    """A database URL for the server: a fresh PostgreSQL database (dropped after) when one
    answers, else SQLite in the data directory."""
    if not sqlite:
        name = f"skillshub_bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # no PostgreSQL here: say so, use SQLite
            print(f"(PostgreSQL not reachable: {type(exc).__name__}; using SQLite)")
        else:
            try:
                yield (
                    make_url(POSTGRES_ADMIN_URL)
                    .set(database=name)
                    .render_as_string(hide_password=False)
                )
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
            return
    yield f"sqlite:///{data_dir / 'skillshub.db'}"


def hostile_credential(proofs: int) -> bytes:
    """An OB 3.0 credential signed by a did:key, grown to 900 alignments, its one real proof
    replaced by `proofs` that name the issuer's key and do not verify."""
    key = Ed25519PrivateKey.generate()
    did = did_key_from_public_key(key.public_key())
    alignments = [
        {
            "type": ["Alignment"],
            "targetName": f"skill {n}",
            "targetUrl": f"http://data.europa.eu/esco/skill/{n:08d}-0000-4000-8000-000000000000",
            "targetFramework": "ESCO",
            "targetCode": f"code-{n:04d}",
            "targetDescription": "x" * 60,
        }
        for n in range(ALIGNMENTS)
    ]
    unsigned = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:6a1f1c2e-8d4b-4c1e-9d7a-2b3c4d5e6f70",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Hostile",
        "issuer": {"id": did, "type": ["Profile"], "name": "Hostile Academy"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://hostile.example/achievements/1",
                "type": ["Achievement"],
                "name": "Hostile",
                "description": "Costs the verifier as much as it can.",
                "criteria": {"narrative": "None."},
                "alignment": alignments,
            },
        },
    }
    signed = eddsa_rdfc_2022.create_proof(
        unsigned,
        signer=from_private_key(
            key, verification_method=did_key_verification_method(key.public_key())
        ),
    )
    real = signed["proof"]
    signed["proof"] = [
        {
            **real,
            "created": f"2025-01-01T00:00:{n:02d}Z",
            "proofValue": encode_proof_value(bytes([n]) * 64),
        }
        for n in range(proofs)
    ]
    return json.dumps(signed).encode()


def prepare(data_dir: Path, database_url: str, master_key: str) -> tuple[str, str]:
    """Demo providers in a fresh database; (issuer slug, API token) for issuing."""
    settings = Settings(data_dir=data_dir, database_url=database_url, master_key=master_key)
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    with Session(engine) as session:
        load_demo(session, settings)
        mc = session.exec(
            select(MicroCredential).where(MicroCredential.slug == MICRO_CREDENTIAL)
        ).one()
        course = session.get(Course, mc.course_id)
        assert course is not None
        issuer = session.exec(
            select(Issuer).where(Issuer.organisation_id == course.organisation_id)
        ).first()
        assert issuer is not None
        token, _record = create_token(session, issuer.organisation_id, "benchmark")
        slug = issuer.slug
        session.commit()
    engine.dispose()
    return slug, token


@contextmanager
def serve(data_dir: Path, database_url: str, master_key: str) -> Iterator[str]:
    """`skillshub serve` in its own process, so the clients do not share its GIL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "SKILLSHUB_DATA_DIR": str(data_dir),
        "SKILLSHUB_DATABASE_URL": database_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_FETCH_OFFLINE": "true",
        # What is measured is the verifier's own work: with limits on, the attackers would
        # mostly get cheap 429s (in production the per-address limit caps such a flood).
        "SKILLSHUB_RATE_LIMIT_ENABLED": "false",
        "SKILLSHUB_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "skillshub"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def verify_once(client: httpx.Client, base: str, body: bytes) -> tuple[float, str]:
    start = time.perf_counter()
    response = client.post(
        f"{base}/api/v1/verify", content=body, headers={"content-type": "application/json"}
    )
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        return elapsed, f"HTTP {response.status_code}"
    report = response.json()
    unresolved = [c for c in report["checks"] if c["status"] in ("error", "skipped")]
    proof = next((c for c in unresolved if c["id"] == "proof"), None)
    why = proof["message"] if proof else (unresolved[0]["message"] if unresolved else "")
    return elapsed, f"{report['verdict']}: {why[:90]}"


def issue_latencies(base: str, slug: str, token: str, count: int) -> list[float]:
    timings = []
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        for n in range(count):
            start = time.perf_counter()
            response = client.post(
                f"{base}/api/v1/issuers/{slug}/credentials",
                json={
                    "micro_credential": MICRO_CREDENTIAL,
                    "name": f"Learner {n}",
                    "email": f"learner{n}@example.org",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 201, response.text
    return timings


def under_load(
    base: str, body: bytes, slug: str, token: str, issues: int
) -> tuple[list[float], list[float]]:
    """Issue latencies while 4 clients keep a hostile verification in flight each; and the
    hostile answers' times meanwhile (s)."""
    stop = threading.Event()
    hostile_times: list[float] = []

    def attacker() -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            while not stop.is_set():
                hostile_times.append(verify_once(client, base, body)[0])

    attackers = [threading.Thread(target=attacker) for _ in range(4)]
    for thread in attackers:
        thread.start()
    time.sleep(0.5)  # all four in flight
    try:
        return issue_latencies(base, slug, token, issues), hostile_times
    finally:
        stop.set()
        for thread in attackers:
            thread.join()


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered):7.1f} ms, p95 {p95:7.1f} ms, max {ordered[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="hostile verifications, one at a time"
    )
    parser.add_argument("--issues", type=int, default=20, help="issues per latency figure")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if PostgreSQL answers")
    args = parser.parse_args()
    variants: dict[str, bytes] = {
        "50 bogus proofs": hostile_credential(50),
        "8 bogus proofs (at the cap)": hostile_credential(8),
    }
    master_key = generate_master_key()
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory) / "data"
        with database(data_dir, args.sqlite) as url:
            run(data_dir, url, master_key, variants, args.rounds, args.issues)


def run(
    data_dir: Path, url: str, master_key: str, variants: dict[str, bytes], rounds: int, issues: int
) -> None:
    print(f"database: {make_url(url).get_backend_name()}")
    slug, token = prepare(data_dir, url, master_key)
    with serve(data_dir, url, master_key) as base:
        issue_latencies(base, slug, token, 3)  # warm: keys, contexts, statements
        for label, body in variants.items():
            with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
                results = [verify_once(client, base, body) for _ in range(rounds)]
            seconds = statistics.median(r[0] for r in results)
            print(
                f"POST /api/v1/verify, {len(body) // 1024} KB, {ALIGNMENTS} alignments, "
                f"{label}: {seconds:6.2f} s (median of {rounds})"
            )
            print(f"  answer: {results[-1][1]}")
        alone = issue_latencies(base, slug, token, issues)
        print(f"issue alone:{' ' * 48}{ms(alone)}")
        for label, body in variants.items():
            issued, hostile = under_load(base, body, slug, token, issues)
            print(f"issue, 4 hostile ({label:27}) in flight: {ms(issued)}")
            if hostile:
                median = statistics.median(hostile)
                print(f"  meanwhile {len(hostile)} hostile answers, median {median:.2f} s")


if __name__ == "__main__":
    main()
