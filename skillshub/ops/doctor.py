"""`skillshub doctor`: what to fix in the configuration and the database, most harmful first.

Each finding is an error (the deployment is unsafe or broken: the command exits 1), a warning
(it works, with a gap an operator should know about) or fine. Reads only.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from badges.models import BulkJob
from catalogue.errors import DomainError
from catalogue.models import Organisation
from keys.eseal_models import EXPIRY_WARNING, SealCertificate
from skillshub.db import check_connection, head_revision
from skillshub.ops.readiness import migration_problem
from skillshub.settings import Settings

STUCK_JOB = timedelta(hours=1)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    OK = "ok"


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    message: str  # what is wrong and how to fix it


def _ok(topic: str, message: str) -> Finding:
    return Finding(Level.OK, topic, message)


def base_url(settings: Settings) -> Finding:
    parts = urlsplit(settings.base_url)
    local = (parts.hostname or "") in _LOCAL_HOSTS
    if parts.scheme == "https" and not local:
        return _ok("base url", f"{settings.base_url}: issuers get did:web identifiers")
    if local:
        return Finding(
            Level.WARNING,
            "base url",
            f"{settings.base_url} is a local address: fine for a trial; in production set "
            "SKILLSHUB_BASE_URL to the public https address before issuing (issuers get "
            "did:web then, did:key now)",
        )
    return Finding(
        Level.ERROR,
        "base url",
        f"{settings.base_url} is http in production: credentials name did:key issuers instead "
        "of did:web, and links and cookies travel unencrypted; set SKILLSHUB_BASE_URL to "
        "https://… behind a TLS proxy",
    )


def smtp(settings: Settings) -> Finding:
    if settings.email_backend == "smtp":
        if not settings.smtp_host:
            return Finding(Level.ERROR, "e-mail", "EMAIL_BACKEND is smtp but SMTP_HOST is not set")
        return _ok("e-mail", f"claim e-mails go out through {settings.smtp_host}")
    return Finding(
        Level.WARNING,
        "e-mail",
        f"EMAIL_BACKEND is {settings.email_backend}: learners receive no claim e-mails; set "
        "SKILLSHUB_EMAIL_BACKEND=smtp and SKILLSHUB_SMTP_HOST",
    )


def seal_certificates(session: Session, now: datetime) -> list[Finding]:
    found: list[Finding] = []
    rows = session.exec(
        select(SealCertificate, Organisation.slug)
        .join(Organisation, col(Organisation.id) == col(SealCertificate.organisation_id))
        .where(col(SealCertificate.active))
        .order_by(col(SealCertificate.not_after))
    ).all()
    for cert, slug in rows:
        not_after = cert.not_after if cert.not_after.tzinfo else cert.not_after.replace(tzinfo=UTC)
        days = (not_after - now).days
        if not_after <= now:
            found.append(
                Finding(
                    Level.ERROR,
                    "e-seal",
                    f"{slug}: the e-seal certificate expired on {not_after:%Y-%m-%d}; Europass "
                    "exports cannot be sealed: import a new one (`skillshub europass seal …`)",
                )
            )
        elif not_after - now <= EXPIRY_WARNING:
            found.append(
                Finding(
                    Level.WARNING,
                    "e-seal",
                    f"{slug}: the e-seal certificate expires in {days} days "
                    f"({not_after:%Y-%m-%d}); order and import its successor now",
                )
            )
    return found or [_ok("e-seal", f"{len(rows)} active certificate(s), none expiring soon")]


def trust_anchors(settings: Settings) -> Finding:
    if settings.seal_trust_anchors:
        return _ok("seal trust anchors", str(settings.seal_trust_anchors))
    return Finding(
        Level.WARNING,
        "seal trust anchors",
        "SKILLSHUB_SEAL_TRUST_ANCHORS is not set: a Europass seal's certificate chain is not "
        "checked against trusted CAs (a warning in every seal report); point it at a PEM "
        "bundle, e.g. the EU trusted list's CAs",
    )


def timestamping() -> Finding:
    # JAdES seals are made at the baseline B-B level: no qualified time-stamp is requested.
    return Finding(
        Level.WARNING,
        "time-stamping",
        "no time-stamping authority is used: Europass seals carry the signing time claimed by "
        "this server (JAdES B-B), which a verifier cannot check after the certificate expires",
    )


def _others_can_read(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def file_modes(settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    key = settings.master_key_path
    if settings.master_key is None and key.is_file() and _others_can_read(key):
        found.append(
            Finding(
                Level.ERROR,
                "master key file",
                f"{key} can be read by other users (mode {stat.filemode(key.stat().st_mode)}): "
                f"chmod 600 {key}",
            )
        )
    url = settings.sqlalchemy_url
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        for path in (db, Path(f"{db}-wal")):  # -shm holds an index of the WAL, no rows
            if path.is_file() and _others_can_read(path):
                found.append(
                    Finding(
                        Level.ERROR,
                        "database file",
                        f"{path} can be read by other users "
                        f"(mode {stat.filemode(path.stat().st_mode)}): chmod 600 {path}",
                    )
                )
    return found or [_ok("file modes", "the master key and database files are owner-only")]


def migrations(engine: Engine) -> Finding:
    problem = migration_problem(engine)
    if problem is None:
        return _ok("migrations", f"at {head_revision()}")
    return Finding(Level.ERROR, "migrations", f"{problem} (docs/OPERATIONS.md: upgrading)")


def stuck_jobs(session: Session, now: datetime) -> Finding:
    cutoff = now - STUCK_JOB
    stuck = [
        job
        for job in session.exec(
            select(BulkJob).where(col(BulkJob.status).in_(("pending", "running")))
        )
        if (job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=UTC))
        < cutoff
    ]
    if not stuck:
        return _ok("jobs", "no bulk job waiting or running for over an hour")
    ids = ", ".join(job.uuid for job in stuck[:5])
    return Finding(
        Level.WARNING,
        "jobs",
        f"{len(stuck)} bulk job(s) pending or running for over an hour ({ids}): a server "
        "stopped during the job; send the same rows again (`skillshub issue-bulk FILE` or the API: "
        "external ids keep anyone from getting two), or look at the log",
    )


def diagnose(settings: Settings, engine: Engine, *, now: datetime | None = None) -> list[Finding]:
    """Every finding, in the issue's order of harm."""
    now = now or datetime.now(UTC)
    findings = [base_url(settings), smtp(settings)]
    try:
        check_connection(engine)
    except DomainError as exc:
        return [Finding(Level.ERROR, "database", exc.message), *findings]
    migrated = migrations(engine)
    with Session(engine) as session:
        if migrated.level is Level.OK:
            findings += seal_certificates(session, now)
        findings += [trust_anchors(settings), timestamping(), *file_modes(settings), migrated]
        if migrated.level is Level.OK:
            findings.append(stuck_jobs(session, now))
    return findings
