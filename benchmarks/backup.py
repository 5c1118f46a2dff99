"""The restore drill's figures: backup size and time, restore and check time, per database.

Run: .venv/bin/python benchmarks/backup.py [--credentials 2000]

Issues N credentials (every tenth revoked) through the real services into a fresh SQLite file
and, when it answers, a fresh PostgreSQL database (beside SKILLSHUB_TEST_POSTGRES_URL's), takes
`skillshub.ops.backup.backup`, restores it into an empty database of the same kind and checks
it (sample of 200 credentials against their proofs, every status list). Prints a table;
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from sqlmodel import Session

from badges import issuing
from badges.status.lists import change_status
from keys.sealing import generate_master_key
from keys.store import ensure_master_key
from skillshub.db import make_engine, upgrade
from skillshub.demo import make_world
from skillshub.devsupport import (
    create_postgres_database,
    drop_postgres_database,
    postgres_unreachable_reason,
)
from skillshub.ops.backup import backup, restore
from skillshub.settings import Settings
from skillshub.verifier import verification_context

BASE_URL = "http://testserver"


def _fill(url: str, key_text: str, n: int) -> float:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        ensure_master_key(session, key_text)
        world = make_world(session, key_text)
        session.commit()
        for i in range(n):
            record = issuing.issue(
                session,
                world.master_key,
                issuer=world.issuer,
                micro_credential=world.mc,
                recipient=issuing.Recipient(name=f"Learner {i}", email=f"l{i}@example.org"),
                base_url=BASE_URL,
            )
            session.commit()
            if i % 10 == 0:
                change_status(
                    session,
                    world.master_key,
                    credential_uuid=record.uuid,
                    action="revoke",
                    organisation_id=None,
                    actor="bench",
                    base_url=BASE_URL,
                )
                session.commit()
    engine.dispose()
    return time.perf_counter() - started


def drill(kind: str, source_url: str, target_url: str, key_text: str, n: int, tmp: Path) -> None:
    filled = _fill(source_url, key_text, n)
    source, target = make_engine(source_url), make_engine(target_url)
    settings = Settings(data_dir=tmp, base_url=BASE_URL, master_key=key_text)
    from keys.sealing import MasterKey

    key = MasterKey(key_text)
    taken = backup(source, key, tmp / f"backup-{kind}")
    result = restore(target, key, tmp / f"backup-{kind}", verification_context(settings))
    print(
        f"{kind:10} {n:>6} credentials  issued in {filled:6.1f} s | backup "
        f"{taken.size / 1024 / 1024:6.1f} MiB in {taken.seconds:5.2f} s | restore+check "
        f"{result.seconds:5.2f} s ({result.credentials_checked} proofs, "
        f"{result.status_lists_checked} status lists, {'ok' if result.ok else result.problems[:2]})"
    )
    source.dispose()
    target.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=2000)
    args = parser.parse_args()
    key_text = generate_master_key()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        drill(
            "sqlite",
            f"sqlite:///{tmp / 'source.db'}",
            f"sqlite:///{tmp / 'restored.db'}",
            key_text,
            args.credentials,
            tmp,
        )
        reason = postgres_unreachable_reason()
        if reason:
            print(f"postgresql skipped: {reason}")
            return
        names = [f"skillshub_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        urls = [create_postgres_database(name) for name in names]
        try:
            drill("postgresql", urls[0], urls[1], key_text, args.credentials, tmp)
        finally:
            for name in names:
                drop_postgres_database(name)


if __name__ == "__main__":
    main()
