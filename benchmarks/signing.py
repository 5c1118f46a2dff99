"""Data Integrity signing and verifying: the compiled path (badges.proofs.compiled) against the
pyld path and the Digital Bazaar stack, in one run (issue 16, part A).

Run: .venv/bin/python benchmarks/signing.py [--rounds 300] [--issue-rounds 100]

Figures (medians, ms):
- the DI signing step of our own credential (canonicalize credential and proof options, hash,
  sign: `eddsa_rdfc_2022.create_proof`), through a template and through pyld;
- the whole `issuing.issue` on SQLite (build, status entries, sign, store, commit), with
  templates and with them turned off;
- DI verification (`badges.verifying.verify`, offline) of our credential and of an official
  example (the cross-stack golden credential Digital Bazaar signed), with the shapes learned
  and on the pyld path;
- the same through the Digital Bazaar stack (`tests/interop/bench_di.mjs`) when node and its
  packages are installed: its `issue` (the whole DI signing step of the same credential) next
  to ours, its `verifyCredential` next to our verifier.
Prints the machine load with the figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from badges import issuing, status
from badges.proofs import compiled, eddsa_rdfc_2022
from badges.verifying import Fetcher, FetchPolicy, VerificationContext, verify
from keys.did import did_key_from_public_key, did_key_verification_method
from keys.sealing import generate_master_key
from keys.signer import from_private_key
from skillshub.db import make_engine
from skillshub.demo import World, make_world
from skillshub.devsupport import bench_database, reference_dir

BASE_URL = "https://badges.example"
REPO = Path(__file__).resolve().parents[1]
INTEROP = REPO / "tests" / "interop"
MANIFEST = REPO / "openbadges_schemas" / "contexts" / "manifest.json"
OFFICIAL = reference_dir() / "ob3/examples/cross-stack-golden/signed_by_digitalbazaar.json"
CREATED = "2026-12-05T06:00:00Z"


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm caches (contexts, templates, keys, statements)
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


@contextmanager
def pyld_path() -> Iterator[None]:
    """No templates anywhere (every loader counts as one whose documents may change)."""
    real = compiled.templates_of
    compiled.templates_of = lambda loader: None
    try:
        yield
    finally:
        compiled.templates_of = real


def _recipient(n: int) -> issuing.Recipient:
    return issuing.Recipient(
        f"Learner {n}", f"learner{n}@example.org", grade="B+", evidence_url=f"{BASE_URL}/e/{n}"
    )


def _issue(session: Session, world: World, n: int) -> None:
    issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=_recipient(n),
        base_url=BASE_URL,
    )
    session.commit()


def _unsigned(session: Session, world: World, *, with_status: bool) -> dict[str, Any]:
    entries = (
        status.allocate_entries(
            session,
            world.master_key,
            issuer=world.issuer,
            base_url=BASE_URL,
            credential_uuid=str(uuid.uuid4()),
        )
        if with_status
        else None
    )
    return issuing.build_credential(
        session,
        credential_uuid=str(uuid.uuid4()),
        issuer=world.issuer,
        org=world.org,
        mc=world.mc,
        recipient=issuing.check_recipient(_recipient(0)),
        salt="00" * 16,
        valid_from=datetime.now(UTC).replace(microsecond=0),
        urls=issuing.Urls(BASE_URL),
        status_entries=entries,
    )


def ours(rounds: int, issue_rounds: int) -> tuple[dict[str, float], dict[str, Any]]:
    figures: dict[str, float] = {}
    with bench_database("sqlite") as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, generate_master_key())
            credential = _unsigned(session, world, with_status=True)
            plain = _unsigned(session, world, with_status=False)
            counter = iter(range(10**9))
            figures["issue"] = median_ms(
                lambda: _issue(session, world, next(counter)), issue_rounds
            )
            with pyld_path():
                figures["issue pyld"] = median_ms(
                    lambda: _issue(session, world, next(counter)), issue_rounds
                )
        engine.dispose()
    key = Ed25519PrivateKey.generate()
    method = did_key_verification_method(key.public_key())
    signer = from_private_key(key, verification_method=method)

    def sign(shapes: compiled.Shapes) -> Callable[[], object]:
        return lambda: eddsa_rdfc_2022.create_proof(
            credential, signer=signer, created=CREATED, shapes=shapes
        )

    assert sign("compile")() == sign("off")()  # the same bytes, and the template is compiled
    figures["sign"] = median_ms(sign("reuse"), rounds)
    figures["sign pyld"] = median_ms(sign("off"), rounds)
    figures["ed25519"] = median_ms(lambda: key.sign(b"x" * 64), rounds)

    # Verification: a did:key credential of ours (no status entries: offline, nothing to fetch).
    plain["issuer"]["id"] = did_key_from_public_key(key.public_key())
    signed = eddsa_rdfc_2022.create_proof(plain, signer=signer)
    official = json.loads(OFFICIAL.read_text())
    context = VerificationContext(fetcher=Fetcher(FetchPolicy(offline=True)))
    for name, document in (("ours", signed), ("official", official)):
        proof = verify(context, document).check("proof")
        assert proof is not None and proof.status.value == "ok", proof

        def check(document: dict[str, Any] = document) -> object:
            return verify(context, document)

        figures[f"verify {name}"] = median_ms(check, rounds)
        with pyld_path():
            figures[f"verify {name} pyld"] = median_ms(check, rounds)
    return figures, plain


def digital_bazaar(unsigned: dict[str, Any], rounds: int) -> dict[str, float] | str:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        return "npm packages missing in tests/interop (npm ci there)"
    official = json.loads(OFFICIAL.read_text())
    done = subprocess.run(
        ["node", "bench_di.mjs", str(MANIFEST), str(rounds)],
        input=json.dumps({"unsigned": unsigned, "official": official}),
        cwd=INTEROP,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        return f"bench_di.mjs failed: {done.stderr.strip()[-300:]}"
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--issue-rounds", type=int, default=100)
    args = parser.parse_args()
    if not OFFICIAL.is_file():
        print(f"skipped: reference example missing: {OFFICIAL}")
        return
    load_before = os.getloadavg()
    figures, unsigned = ours(args.rounds, args.issue_rounds)
    bazaar = digital_bazaar(unsigned, args.rounds)
    load_after = os.getloadavg()
    db = bazaar if isinstance(bazaar, dict) else {}

    def anchor(name: str) -> str:
        return f"{db[name]:7.3f} ms" if name in db else "      -"

    rows = [
        ("DI signing step, our credential (compiled)", figures["sign"], anchor("issue")),
        ("  the same through pyld", figures["sign pyld"], ""),
        ("  Ed25519 signature alone", figures["ed25519"], ""),
        ("whole issuing.issue + commit, sqlite", figures["issue"], ""),
        ("  the same through pyld", figures["issue pyld"], ""),
        (
            "DI verify, our credential (shape learned)",
            figures["verify ours"],
            anchor("verify_ours"),
        ),
        ("  the same through pyld", figures["verify ours pyld"], ""),
        (
            "DI verify, official example (shape learned)",
            figures["verify official"],
            anchor("verify_official"),
        ),
        ("  the same through pyld", figures["verify official pyld"], ""),
    ]
    print(f"medians of {args.rounds} rounds ({args.issue_rounds} for issue)")
    print(f"{'figure':46} {'ours':>10}   {'Digital Bazaar':>14}")
    for name, value, other in rows:
        print(f"{name:46} {value:7.3f} ms   {other:>14}")
    ratio = figures["sign pyld"] / figures["sign"]
    print(f"signing step: {ratio:.1f}x faster than the pyld path in this run")
    if not isinstance(bazaar, dict):
        print(f"Digital Bazaar stack: skipped ({bazaar})")
    print(
        "load average (1, 5, 15 min): before "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after "
        + ", ".join(f"{x:.2f}" for x in load_after)
        + f"; {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
