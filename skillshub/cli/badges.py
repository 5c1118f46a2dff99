"""`skillshub verify`, `issue`, `issue-bulk` and `revoke`: verifying, issuing and status from
the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlmodel import Session, select

from accounts import audit, credentials
from accounts.audit import Actor
from badges import issuing
from badges.issuing import bulk, get_issuer
from badges.models import Issuer
from badges.report import VerificationReport
from badges.sharing import delivery
from catalogue.errors import DomainError
from catalogue.micro_credentials import get_micro_credential
from catalogue.models import Course, MicroCredential
from keys.store import ensure_master_key
from skillshub.cli.common import (
    CREDENTIAL_HELP,
    app,
    check_writable,
    database,
    err,
    fail,
    load_settings,
    out,
    write_file,
)
from skillshub.db import make_engine, writer


@app.command("verify")
def verify_command(
    target: Annotated[str, typer.Argument(help="A badge file (.json/.jwt/.png/.svg) or URL")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON")] = False,
    email: Annotated[str | None, typer.Option(help="Check the recipient's e-mail")] = None,
) -> None:
    """Verify an Open Badge: exit 0 valid, 1 invalid, 2 could not check."""
    from badges.verifying import VerifyOptions, verify
    from skillshub.verifier import verification_context

    settings = load_settings()
    try:
        is_url = target.startswith(("https://", "http://"))
        data = target if is_url else Path(target).read_bytes()
        # Exit 1 means "invalid": a set-up or database error is "could not check" (2).
        with database(settings, error_code=2) as session:
            context = verification_context(settings).bound(session)
            report = verify(context, data, options=VerifyOptions(recipient_email=email))
    except (OSError, DomainError) as exc:
        raise fail(getattr(exc, "message", None) or str(exc), 2) from None
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        _print_report(report)
    raise typer.Exit({"valid": 0, "invalid": 1}.get(report.verdict.value, 2))


def _print_report(report: VerificationReport) -> None:
    """The verdict in a plain sentence first (as the verify page says it), then each check."""
    from badges.verifying.plain import english, headline

    summary = report.summary
    said = headline(report)
    dates = {key: _day(said.values.get(key)) for key in ("when", "until", "since")}
    sentences = [english(t, said.values, dates) for t in (said.sentence, *said.notes)]

    def plain(line: str) -> None:
        # Credential text is the issuer's: no Rich markup or emoji codes read from it.
        out.print(line, highlight=False, markup=False, emoji=False, soft_wrap=True)

    plain(f"{report.verdict.value.upper()}: {said.title}. {' '.join(sentences)}")
    plain(
        f"  {summary.achievement_name or '?'} — issued by {summary.issuer_name or '?'}"
        f" ({summary.issuer_id})"
    )
    for check in report.checks:
        plain(f"  {check.status.value:8} {check.id:13} {check.message}")


def _day(value: str | None) -> str:
    """An ISO date-time as "3 March 2026" (the CLI speaks English)."""
    from datetime import datetime

    from babel.dates import format_date

    try:
        return format_date(datetime.fromisoformat(value or ""), format="long", locale="en_GB")
    except ValueError:
        return value or ""


def _options(**values: str | None) -> list[tuple[str, str]]:
    return [(flag, value) for flag, value in values.items() if value]


def _cli_origin(argv: list[str]) -> credentials.Origin:
    """The audit log's "who and how" for a command (e-mail addresses masked; free text such
    as a reason is left out: the event's details hold it)."""
    return credentials.Origin(Actor.cli(), command=audit.command_line(argv))


def _issuer_for(session: Session, micro_credential: MicroCredential, slug: str | None) -> Issuer:
    """The named issuer, or the single issuer of the micro-credential's organisation."""
    if slug:
        return get_issuer(session, slug)
    course = session.get(Course, micro_credential.course_id)
    candidates = session.exec(
        select(Issuer).where(Issuer.organisation_id == (course.organisation_id if course else -1))
    ).all()
    if len(candidates) != 1:
        raise DomainError(
            f"{len(candidates)} issuers can award {micro_credential.slug!r}; "
            "choose one with --issuer"
        )
    return candidates[0]


@app.command()
def issue(
    micro_credential: Annotated[str, typer.Option("--micro-credential", help="its slug")],
    email: Annotated[str, typer.Option(help="the learner's e-mail (published only hashed)")],
    name: Annotated[
        str | None,
        typer.Option(help="the learner's full name (default: --given-name --family-name)"),
    ] = None,
    given_name: Annotated[str | None, typer.Option(help="given name(s), kept apart")] = None,
    family_name: Annotated[str | None, typer.Option(help="family name(s), kept apart")] = None,
    contact_consent: Annotated[
        bool,
        typer.Option(
            "--contact-consent",
            help="the learner agreed that the e-mail be shown in their Europass credential",
        ),
    ] = False,
    did: Annotated[str | None, typer.Option(help="the learner's DID, if they have one")] = None,
    fmt: Annotated[str, typer.Option("--format", help="ldp (Data Integrity) or jwt")] = "ldp",
    grade: Annotated[str | None, typer.Option()] = None,
    evidence_url: Annotated[str | None, typer.Option()] = None,
    external_id: Annotated[str | None, typer.Option(help="idempotency key")] = None,
    issuer: Annotated[str | None, typer.Option(help="issuer slug (default: the only one)")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="write here, not stdout")] = None,
) -> None:
    """Issue one Open Badges 3.0 credential and print it (JSON, or the JWS for --format jwt)."""
    if out_file:
        check_writable(out_file)  # before issuing: a credential is not taken back
    settings = load_settings()
    argv = ["issue", "--micro-credential", micro_credential, "--email", email]
    names = _options(name=name, given_name=given_name, family_name=family_name)
    argv += [f"--{flag.replace('_', '-')}={value}" for flag, value in names]
    argv += ["--contact-consent"] if contact_consent else []
    argv += [f"--{flag}={value}" for flag, value in _options(did=did, grade=grade, issuer=issuer)]
    with database(settings) as session:
        master_key = ensure_master_key(session, settings.resolved_master_key())
        mc = get_micro_credential(session, micro_credential)
        issued = credentials.issue(
            session,
            master_key,
            issuer=_issuer_for(session, mc, issuer),
            micro_credential=mc,
            recipient=issuing.Recipient(
                name=name or "",
                given_name=given_name,
                family_name=family_name,
                email=email,
                contact_consent=contact_consent,
                did=did,
                grade=grade,
                evidence_url=evidence_url,
                external_id=external_id,
            ),
            base_url=settings.base_url,
            origin=_cli_origin(argv),
            status_purposes=settings.status_purposes,
            jwt_algorithm=settings.jwt_algorithm,
            fmt=fmt,
        )
        record = issued.record
        text = record.signed
    if issued.replayed:
        err.print(f"credential {record.uuid} was issued before with this external id")
    # After the commit: the learner's e-mail with the claim link.
    sent = (
        None
        if issued.replayed
        else delivery.deliver_committed(
            writer(make_engine(settings.sqlalchemy_url)), settings, record.uuid
        )
    )
    if sent is not None and not sent.sent:
        err.print(f"[yellow]warning:[/] the claim e-mail was not sent: {sent.error}")
    if out_file:
        write_file(out_file, text + "\n")
        err.print(f"issued credential {record.uuid} → {out_file}")
    else:
        sys.stdout.write(text + "\n")


@app.command("issue-bulk")
def issue_bulk(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: email and name (or given_name,family_name; or all three)"
            "[,did,grade,evidence_url,external_id,evidence_narrative,contact_consent]"
        ),
    ],
    micro_credential: Annotated[str, typer.Option("--micro-credential", help="its slug")],
    fmt: Annotated[str, typer.Option("--format", help="ldp or jwt")] = "ldp",
    issuer: Annotated[str | None, typer.Option(help="issuer slug (default: the only one)")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the per-row report as JSON")
    ] = False,
) -> None:
    """Issue a credential to every row of a CSV, with a progress bar and a summary.

    Rerunning the same file issues nobody twice (external ids, given or derived)."""
    settings = load_settings()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    from skillshub.jobs import Jobs, enqueue_job

    with database(settings) as session:
        master_key = ensure_master_key(session, settings.resolved_master_key())
        mc = get_micro_credential(session, micro_credential)
        job = credentials.start_bulk(
            session,
            issuer=_issuer_for(session, mc, issuer),
            micro_credential=mc,
            rows=bulk.parse_csv(text),
            fmt=fmt,
            origin=_cli_origin(["issue-bulk", str(file), "--micro-credential", micro_credential]),
            source=file.name,
        )
        enqueue_job(session, job.uuid)  # its tasks commit with its rows (PostgreSQL)

    engine = make_engine(settings.sqlalchemy_url)
    jobs = Jobs(settings, engine, master_key)
    columns = (TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=as_json) as bar:
        task = bar.add_task("issue", total=job.total, completed=job.failed)
        job = jobs.run(
            job.uuid,
            progress=lambda j: bar.update(task, completed=j.issued + j.skipped + j.failed),
        )
    with Session(engine) as session:
        report = bulk.job_report(session, job)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        for row in report["rows"]:
            if row["status"] == "failed":
                err.print(f"line {row['line']}: {row['error']}", highlight=False)
        out.print(
            f"issued {report['issued']}, already issued {report['duplicates']}, "
            f"failed {report['failed']} of {report['total']} rows (job {report['id']})"
        )
    if report["failed"]:
        raise typer.Exit(1)


@app.command()
def revoke(
    credential_id: Annotated[str, typer.Argument(help=CREDENTIAL_HELP)],
    suspend: Annotated[bool, typer.Option("--suspend", help="suspend instead of revoke")] = False,
    unsuspend: Annotated[bool, typer.Option("--unsuspend", help="lift a suspension")] = False,
    reason: Annotated[str | None, typer.Option(help="recorded with who and when")] = None,
) -> None:
    """Revoke a credential (final), or suspend / unsuspend it; the status list is re-signed."""
    if suspend and unsuspend:
        raise fail("choose one of --suspend and --unsuspend", 2)
    action = "suspend" if suspend else "unsuspend" if unsuspend else "revoke"
    settings = load_settings()
    argv = ["revoke", credential_id] + ([f"--{action}"] if action != "revoke" else [])
    with database(settings) as session:
        master_key = ensure_master_key(session, settings.resolved_master_key())
        record = credentials.change_status(
            session,
            master_key,
            credential_uuid=issuing.credential_uuid_of(session, credential_id, settings.base_url),
            action=action,
            organisation_id=None,
            base_url=settings.base_url,
            origin=_cli_origin(argv),
            reason=reason,
            status_actor="cli",
        )
    state = "revoked" if record.revoked_at else "suspended" if record.suspended else "active"
    out.print(f"credential {record.uuid} is now {state}")
