"""Batched bulk issuing: several batches per chunk, duplicates within and across batches, a
row that cannot be signed, a concurrent duplicate; every index given once and none leaked."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from badges.issuing import bulk
from badges.issuing import service as issuing
from badges.models import BulkJobRow, IssuedCredential, StatusAllocation
from catalogue.errors import InvalidInput
from skillshub.db import writer
from tests.support.world import World

BASE_URL = "http://testserver"


def _job(session: Session, world: World, csv_text: str) -> str:
    job = bulk.create_job(
        session, issuer=world.issuer, micro_credential=world.mc, rows=bulk.parse_csv(csv_text)
    )
    session.commit()
    return job.uuid


def _run(engine: Engine, world: World, job_uuid: str, *, batch_rows: int) -> None:
    how = bulk.Issuing(world.master_key, BASE_URL)
    with Session(engine) as session:
        job = bulk.get_job(session, job_uuid)
        todo = bulk.chunks(session, job, size=7)
    bulk.start_job(writer(engine), job_uuid)
    for chunk in todo:
        bulk.run_chunk(writer(engine), how, job_uuid, chunk, batch_rows=batch_rows)
    assert bulk.finish_if_done(writer(engine), job_uuid)


def _indexes_sound(session: Session) -> None:
    credentials = {c.uuid: c for c in session.exec(select(IssuedCredential)).all()}
    allocations = session.exec(select(StatusAllocation)).all()
    # One allocation per credential, each naming a stored credential: none leaked.
    assert sorted(a.credential_uuid for a in allocations) == sorted(credentials)
    # Never an index given twice, and each credential carries the index it was given.
    assert not [k for k, n in Counter((a.list_id, a.index) for a in allocations).items() if n > 1]
    for allocation in allocations:
        entry = json.loads(credentials[allocation.credential_uuid].signed)["credentialStatus"]
        assert entry["statusListIndex"] == str(allocation.index)


def test_batches_settle_every_row_once(engine: Engine, session: Session, world: World) -> None:
    lines = [f"P{n},p{n}@example.org,x{n % 20}" for n in range(30)]  # x0..x19 then repeats
    csv_text = "name,email,external_id\n" + "\n".join(lines) + "\nBad,not-an-email,zz\n"
    job_uuid = _job(session, world, csv_text)
    _run(engine, world, job_uuid, batch_rows=4)
    with Session(engine) as check:
        job = bulk.get_job(check, job_uuid)
        assert (job.status, job.total, job.issued, job.skipped, job.failed) == (
            "done",
            31,
            20,
            10,
            1,
        )
        rows = bulk.job_rows(check, job)
        issued = {r.external_id: r.credential_uuid for r in rows if r.status == "issued"}
        for row in rows:
            if row.status == "duplicate":  # points at the credential its id was issued as
                assert row.credential_uuid == issued[row.external_id]
        assert len(check.exec(select(IssuedCredential)).all()) == 20
        _indexes_sound(check)
    # A rerun of the same list issues nobody again.
    with Session(engine) as again:
        rerun = _job(again, world, csv_text)
    _run(engine, world, rerun, batch_rows=50)
    with Session(engine) as check:
        job = bulk.get_job(check, rerun)
        assert (job.issued, job.skipped, job.failed) == (0, 30, 1)
        _indexes_sound(check)


def test_row_that_cannot_be_signed_fails_alone_and_gives_its_index_back(
    engine: Engine, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = issuing.signed_text

    def refuse_mallory(credential, fmt, signer):
        if "Mallory" in json.dumps(credential):
            raise InvalidInput("the credential cannot be signed: test")
        return real(credential, fmt, signer)

    monkeypatch.setattr(issuing, "signed_text", refuse_mallory)
    csv_text = "name,email\nAda,ada@example.org\nMallory,m@example.org\nCy,cy@example.org\n"
    job_uuid = _job(session, world, csv_text)
    _run(engine, world, job_uuid, batch_rows=10)
    with Session(engine) as check:
        job = bulk.get_job(check, job_uuid)
        assert (job.issued, job.failed) == (2, 1)
        failed = check.exec(select(BulkJobRow).where(BulkJobRow.status == "failed")).one()
        assert failed.line == 3 and "cannot be signed" in (failed.error or "")
        _indexes_sound(check)


def test_concurrent_duplicate_rolls_the_batch_back_then_rows_settle_one_by_one(
    engine: Engine, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_uuid = _job(session, world, "name,email,external_id\nAda,a@example.org,k1\nBo,b@x.org,k2\n")
    # k1 issued elsewhere after the batch looked for existing ids (the look finds nothing).
    first = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Ada", email="a@example.org", external_id="k1"),
        base_url=BASE_URL,
    )
    session.commit()
    calls: list[int] = []
    real = bulk._existing

    def blind_once(s, job, ids):
        calls.append(len(ids))
        return {} if len(calls) == 1 else real(s, job, ids)

    monkeypatch.setattr(bulk, "_existing", blind_once)
    _run(engine, world, job_uuid, batch_rows=10)
    with Session(engine) as check:
        job = bulk.get_job(check, job_uuid)
        assert (job.issued, job.skipped, job.failed) == (1, 1, 0)
        rows = {r.external_id: r for r in bulk.job_rows(check, job)}
        assert rows["k1"].status == "duplicate" and rows["k1"].credential_uuid == first.uuid
        assert len(check.exec(select(IssuedCredential)).all()) == 2
        _indexes_sound(check)
