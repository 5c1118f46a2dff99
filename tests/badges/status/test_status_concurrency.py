"""Status-list indexes stay unique when several processes issue at once against PostgreSQL.

Four OS processes each issue 200 full credentials (alternately Data Integrity and VC-JWT,
through `issuing.issue`, one transaction each) into one fresh database; they start together,
so they also race to open the first lists. The database, not Python, must keep every
(list, index) unique. Slow by design (tens of seconds): marked `slow`, run by `make test`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from badges.models import IssuedCredential, StatusAllocation, StatusList
from badges.proofs import vc_jwt
from badges.status import lists as status
from skillshub.db import make_engine, upgrade
from skillshub.devsupport import create_postgres_database, drop_postgres_database
from tests.support.reference import REPO
from tests.support.world import World, make_world

PROCESSES = 4
# 800 allocations per purpose racing on one list: every one is a chance to collide (500 each
# found nothing more, at 2.5 times the run time).
PER_PROCESS = 200
BASE_URL = "http://testserver"

# One worker: says "ready", waits for the go line on stdin, issues, prints the issued ids.
WORKER = """
import json, os, sys
from sqlmodel import Session
from badges import issuing
from badges.issuing.issuers import get_issuer
from catalogue.micro_credentials import get_micro_credential
from keys.sealing import MasterKey
from skillshub.db import make_engine

db_url, issuer_slug, mc_slug, count, worker, base_url = sys.argv[1:]
engine = make_engine(db_url)
master_key = MasterKey(os.environ["SKILLSHUB_MASTER_KEY"])
with Session(engine, expire_on_commit=False) as session:
    issuer = get_issuer(session, issuer_slug)
    mc = get_micro_credential(session, mc_slug)
    session.commit()
    print("ready", flush=True)
    sys.stdin.readline()
    issued = []
    for n in range(int(count)):
        record = issuing.issue(
            session,
            master_key,
            issuer=issuer,
            micro_credential=mc,
            recipient=issuing.Recipient(
                f"Learner {worker}-{n}", f"learner-{worker}-{n}@example.org",
                external_id=f"w{worker}-{n}",
            ),
            base_url=base_url,
            fmt="ldp" if n % 2 == 0 else "jwt",
            status_purposes=("revocation", "suspension"),
        )
        session.commit()
        issued.append(record.uuid)
print(json.dumps(issued), flush=True)
engine.dispose()
"""


@pytest.fixture
def fresh_postgres(postgres_skip_reason: str | None) -> Iterator[str]:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    name = f"skillshub_concurrency_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_postgres_database(name)


def _entries(record: IssuedCredential) -> set[tuple[str, str, int]]:
    document = (
        json.loads(record.signed)
        if record.format == "ldp"
        else vc_jwt.decode_unverified(record.signed)[1]
    )
    return {
        (e["statusPurpose"], e["statusListCredential"], int(e["statusListIndex"]))
        for e in document["credentialStatus"]
    }


@pytest.mark.slow
def test_four_processes_issuing_200_each_never_share_an_index(
    fresh_postgres: str, master_key: str
) -> None:
    engine = make_engine(fresh_postgres)
    with Session(engine, expire_on_commit=False) as session:
        world: World = make_world(session, master_key)
    env = os.environ | {"SKILLSHUB_MASTER_KEY": master_key}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                fresh_postgres,
                world.issuer.slug,
                world.mc.slug,
                str(PER_PROCESS),
                str(n),
                BASE_URL,
            ],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:  # all connected: start together
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        issued: list[str] = []
        for worker in workers:
            out, err = worker.communicate(timeout=600)
            assert worker.returncode == 0, err
            issued += json.loads(out)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()

    with Session(engine) as session:
        pairs = session.exec(select(StatusAllocation.list_id, StatusAllocation.index)).all()
        assert Counter(pairs).most_common(1)[0][1] == 1  # no (list, index) given twice
        assert len(pairs) == PROCESSES * PER_PROCESS * len(status.PURPOSES)
        records = session.exec(select(IssuedCredential)).all()
        assert sorted(r.uuid for r in records) == sorted(issued)
        assert len(records) == PROCESSES * PER_PROCESS
        lists = {sl.id: sl for sl in session.exec(select(StatusList))}
        # Racing to open the first lists still leaves one list per purpose (none full yet).
        assert sorted((sl.purpose, sl.seq) for sl in lists.values()) == [
            ("revocation", 1),
            ("suspension", 1),
        ]
        allocations: dict[str, set[tuple[str, str, int]]] = {}
        for allocation in session.exec(select(StatusAllocation)):
            status_list = lists[allocation.list_id]
            url = status.list_url(BASE_URL, world.issuer.slug, status_list.purpose, status_list.seq)
            allocations.setdefault(allocation.credential_uuid, set()).add(
                (status_list.purpose, url, allocation.index)
            )
        for record in records:
            assert _entries(record) == allocations[record.uuid], record.uuid
        per_list = session.exec(
            select(StatusAllocation.list_id, func.count()).group_by(col(StatusAllocation.list_id))
        ).all()
        assert {count for _, count in per_list} == {PROCESSES * PER_PROCESS}
    engine.dispose()
