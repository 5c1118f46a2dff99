"""Uploaded class lists kept between the preview and the confirmation, in the database (no
file on disk to leak or to clean up): at most MAX_PER_ORGANISATION per organisation (the
oldest go first), each for TTL, and emptied when its job starts (the row stays, naming the
job, so a second confirmation finds the first one's job instead of issuing again)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from badges.models import StagedUpload
from catalogue.errors import NotFound

TTL = timedelta(hours=24)
MAX_PER_ORGANISATION = 20


class UploadGone(NotFound):
    code = "upload_gone"


def stage(
    session: Session,
    *,
    organisation_id: int,
    uploaded_by: str,
    filename: str,
    kind: str,
    data: bytes,
    now: datetime | None = None,
) -> StagedUpload:
    now = now or datetime.now(UTC)
    session.execute(delete(StagedUpload).where(col(StagedUpload.expires_at) <= now))
    kept = session.exec(
        select(StagedUpload.id)
        .where(StagedUpload.organisation_id == organisation_id)
        .order_by(col(StagedUpload.created_at).desc(), col(StagedUpload.id).desc())
        .offset(MAX_PER_ORGANISATION - 1)
    ).all()
    if kept:
        session.execute(delete(StagedUpload).where(col(StagedUpload.id).in_(kept)))
    upload = StagedUpload(
        uuid=str(uuid.uuid4()),
        organisation_id=organisation_id,
        uploaded_by=uploaded_by[:320],
        filename=filename[:200] or "upload",
        kind=kind,
        data=data,
        created_at=now,
        expires_at=now + TTL,
    )
    session.add(upload)
    session.flush()
    return upload


def staged(
    session: Session,
    organisation_id: int,
    upload_uuid: str,
    *,
    lock: bool = False,
    now: datetime | None = None,
) -> StagedUpload:
    """The organisation's upload (locked for the confirmation), or UploadGone."""
    statement = select(StagedUpload).where(
        StagedUpload.uuid == upload_uuid, StagedUpload.organisation_id == organisation_id
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    upload = session.exec(statement).first()
    if upload is None or (upload.job_uuid is None and upload.expires_at <= (now or _now())):
        raise UploadGone(
            "This upload has expired or does not exist (uploads are kept for a day until "
            "they are confirmed). Upload the file again."
        )
    return upload


def started(session: Session, upload: StagedUpload, job_uuid: str) -> None:
    """The job runs now: the file's bytes go, its job's id stays."""
    upload.data = None
    upload.job_uuid = job_uuid
    session.add(upload)
    session.flush()


def _now() -> datetime:
    return datetime.now(UTC)
