"""Issuing and status-list figures: single issue (DI, JWT), bulk from CSV, allocation, revoke.

Run: .venv/bin/python benchmarks/issue.py [--rows 10000] [--rounds 200]

Everything goes through the real services on a real database: SQLite (a file in a temporary
directory) and, when it answers, PostgreSQL (a fresh database per run, next to the test one:
SKILLSHUB_TEST_POSTGRES_URL, default postgres@127.0.0.1:5432/test). The credentials are issued
in the same world the tests use (`skillshub.demo.make_world`). Each bulk run is its
own process, so its peak RSS is its own. Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld
from sqlalchemy import insert
from sqlmodel import Session, col, select

from badges import issuing, status
from badges.issuing import bulk
from badges.models import IssuedCredential, StatusAllocation, StatusList
from badges.proofs import eddsa_rdfc_2022
from badges.status import bitstring
from catalogue.base import pk
from keys import store
from keys.sealing import generate_master_key
from openbadges_schemas.loader import default_loader
from skillshub.db import make_engine
from skillshub.demo import World, make_world
from skillshub.devsupport import bench_database as database
from skillshub.devsupport import postgres_unreachable_reason

BASE_URL = "https://badges.example"
ANCHORS = (
    "anchor: Digital Bazaar JS DI issue 2.7 ms",
    "anchor: openbadgeslib DI issue 11.8 ms",
    "anchor: raw pyld 3.5 ms",
)
# Allocated share of a list for the "busy list" figures. Allocation gives up on a list after
# 12 taken draws in a row (status._DRAWS), which at 75 % happens to 3 % of allocations.
FILL = 0.5
REVOKED = 0.05  # share of allocated entries whose bit is set, for a realistic encodedList


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm caches (contexts, keys, statements)
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def _recipient(n: int) -> issuing.Recipient:
    return issuing.Recipient(f"Learner {n}", f"learner{n}@example.org", grade="B+")


def _issue(session: Session, world: World, n: int, fmt: str) -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=_recipient(n),
        base_url=BASE_URL,
        fmt=fmt,
    )
    session.commit()
    return record


# --- single issue and what it is made of ---------------------------------------------------

Row = tuple[str, str, str]  # figure, ours, anchor or note


def _ms(value: float) -> str:
    return f"{value:.2f} ms"


def issue_rows(rounds: int) -> list[Row]:
    with database("sqlite") as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, generate_master_key())
            counter = iter(range(10**9))
            di = median_ms(lambda: _issue(session, world, next(counter), "ldp"), rounds)
            jwt = median_ms(lambda: _issue(session, world, next(counter), "jwt"), rounds)
            unsigned = issuing.build_credential(
                session,
                credential_uuid=str(uuid.uuid4()),
                issuer=world.issuer,
                org=world.org,
                mc=world.mc,
                recipient=issuing.check_recipient(_recipient(0)),
                salt="00" * 16,
                valid_from=datetime.now(UTC),
                urls=issuing.Urls(BASE_URL),
                status_entries=status.allocate_entries(
                    session,
                    world.master_key,
                    issuer=world.issuer,
                    base_url=BASE_URL,
                    credential_uuid=str(uuid.uuid4()),
                ),
            )
            signer = store.signer(session, world.master_key, pk(world.issuer))
        engine.dispose()
    sign = median_ms(
        lambda: eddsa_rdfc_2022.create_proof(unsigned, signer=signer),
        rounds,
    )
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": default_loader(),
    }
    pyld = median_ms(lambda: jsonld.normalize(unsigned, options), rounds)
    return [
        ("DI issue, issuing.issue + commit (sqlite)", _ms(di), ANCHORS[0]),
        ("  eddsa-rdfc-2022 proof of that credential", _ms(sign), ""),
        ("  raw pyld URDNA2015 of that credential", _ms(pyld), ANCHORS[2]),
        (
            "  openbadgeslib DI proof of that credential",
            _ms(_openbadgeslib_sign_ms(unsigned, signer.verification_method, rounds)),
            ANCHORS[1],
        ),
        ("JWT issue, issuing.issue + commit (sqlite)", _ms(jwt), ""),
    ]


def _openbadgeslib_sign_ms(unsigned: dict[str, Any], method: str, rounds: int) -> float:
    """openbadgeslib's eddsa-rdfc-2022 signer on the same credential, or NaN without it.

    It takes a PEM private key, which the key store never hands out: a throwaway key of the
    same type costs the same to sign with."""
    try:
        from openbadgeslib.ob3.ldp import add_data_integrity_proof
    except ImportError:
        return float("nan")
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return median_ms(lambda: add_data_integrity_proof(unsigned, pem, method), rounds)


# --- status lists: allocation and revoke + republish ---------------------------------------


def _fill(session: Session, purpose: str, share: float, revoked: float) -> None:
    """Allocate `share` of the purpose's list to made-up credentials; set `revoked` of them."""
    status_list = session.exec(
        select(StatusList).where(StatusList.purpose == purpose, StatusList.seq == 1)
    ).one()
    taken = set(
        session.exec(
            select(StatusAllocation.index).where(StatusAllocation.list_id == status_list.id)
        )
    )
    free = [i for i in range(status_list.size) if i not in taken]
    chosen = random.sample(free, int(status_list.size * share) - len(taken))
    rows = [
        {"list_id": status_list.id, "index": i, "credential_uuid": str(uuid.uuid4())}
        for i in chosen
    ]
    for start in range(0, len(rows), 10_000):
        session.execute(insert(StatusAllocation), rows[start : start + 10_000])
    bits = bytearray(status_list.bits)
    for index in random.sample(chosen, int(len(chosen) * revoked)):
        bitstring.set_bit(bits, index, True)
    status_list.bits = bytes(bits)
    session.add(status_list)
    session.commit()


def status_rows(kind: str, rounds: int) -> list[Row]:
    with database(kind) as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, generate_master_key())

            def allocate() -> None:
                status.allocate_entries(
                    session,
                    world.master_key,
                    issuer=world.issuer,
                    base_url=BASE_URL,
                    credential_uuid=str(uuid.uuid4()),
                )
                session.commit()

            empty = median_ms(allocate, rounds)
            victims = [_issue(session, world, n, "ldp").uuid for n in range(rounds + 1)]
            for purpose in status.PURPOSES:
                _fill(session, purpose, FILL, REVOKED)
            busy = median_ms(allocate, rounds)

            def revoke() -> None:
                status.change_status(
                    session,
                    world.master_key,
                    credential_uuid=victims.pop(),
                    action="revoke",
                    organisation_id=world.org.id,
                    actor="benchmark",
                    base_url=BASE_URL,
                )
                session.commit()

            republish = median_ms(revoke, rounds)
            full = session.exec(
                select(StatusList).where(StatusList.purpose == "revocation", StatusList.seq == 1)
            ).one()
            set_bits = sum(bin(b).count("1") for b in full.bits)
            encoded = len(bitstring.encode(full.bits))
            encode = median_ms(lambda: bitstring.encode(full.bits), rounds)
        engine.dispose()
    return [
        (f"status allocation per credential, 2 entries ({kind})", _ms(empty), "empty list"),
        (f"  same, list {FILL:.0%} allocated ({kind})", _ms(busy), ""),
        (
            f"revoke + republish, 131,072-entry list ({kind})",
            _ms(republish),
            f"{set_bits:,} bits set, encodedList {encoded:,} B",
        ),
        (f"  of which encodedList encode ({kind})", _ms(encode), ""),
    ]


# --- bulk: one process per run, so the peak RSS is the run's own ----------------------------


def bulk_child(kind: str, rows: int) -> dict[str, float]:
    """Issue `rows` DI credentials from a CSV file through a bulk job (runs in a subprocess)."""
    with database(kind) as url, tempfile.TemporaryDirectory() as directory:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, generate_master_key())
        csv_file = Path(directory) / "cohort.csv"
        lines = ["name,email,external_id,grade"]
        lines += [f"Learner {n},learner{n}@example.org,enrol-{n},B" for n in range(rows)]
        csv_file.write_text("\n".join(lines) + "\n")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            job = bulk.create_job(
                session,
                issuer=world.issuer,
                micro_credential=world.mc,
                rows=bulk.parse_csv(csv_file.read_text()),
            )
            session.commit()
        job = bulk.run_job(engine, world.master_key, job.uuid, base_url=BASE_URL)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with Session(engine) as session:
            stored = len(session.exec(select(col(IssuedCredential.id))).all())
        engine.dispose()
    assert job.issued == stored == rows, (job.issued, stored)
    return {
        "issued": job.issued,
        "seconds": seconds,
        "per_second": job.issued / seconds,
        "peak_rss_mb": peak / 1024,
        "rss_before_mb": rss_before / 1024,
    }


def bulk_row(kind: str, rows: int) -> Row:
    done = subprocess.run(
        [sys.executable, __file__, "--bulk-child", kind, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    return (
        f"bulk {figures['issued']:,} DI from CSV ({kind})",
        f"{figures['per_second']:.0f} cred/s",
        f"peak RSS {figures['peak_rss_mb']:.0f} MB ({figures['rss_before_mb']:.0f} MB before)",
    )


# --- the table ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="bulk rows per database")
    parser.add_argument("--rounds", type=int, default=200, help="rounds per median")
    parser.add_argument("--bulk-child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bulk_child:
        print(json.dumps(bulk_child(args.bulk_child, args.rows)))
        return

    kinds = ["sqlite"]
    reason = postgres_unreachable_reason()
    if reason:
        print(f"(PostgreSQL figures skipped: {reason})")
    else:
        kinds.append("postgresql")

    rows = issue_rows(args.rounds)
    for kind in kinds:
        rows += status_rows(kind, args.rounds)
    rows += [bulk_row(kind, args.rows) for kind in kinds]
    print(f"medians of {args.rounds} rounds; anchors measured on this machine")
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':{width}}  {'ours':>12}  anchor / note")
    for name, ours, note in rows:
        print(f"{name:{width}}  {ours:>12}  {note}")


if __name__ == "__main__":
    main()
