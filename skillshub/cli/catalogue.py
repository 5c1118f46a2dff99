"""`skillshub catalogue …`: list, skills gap, ESCO import, JSON export and import, reindex."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from catalogue import esco, gap, organisations, search, transfer
from catalogue.courses import list_courses
from catalogue.micro_credentials import list_micro_credentials
from catalogue.schemas import Page
from catalogue.skills import list_job_roles, list_skills
from skillshub.cli.common import app, database, err, fail, load_settings, out, write_file

catalogue_app = typer.Typer(
    help="Skills, job roles, courses and micro-credentials.", no_args_is_help=True
)
app.add_typer(catalogue_app, name="catalogue")


class Kind(StrEnum):
    skills = "skills"
    job_roles = "job-roles"
    courses = "courses"
    micro_credentials = "micro-credentials"


def _write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _rows(kind: Kind, page: Page[Any]) -> list[dict[str, str]]:
    if kind in (Kind.skills, Kind.job_roles):
        return [
            {"slug": i.slug, "iri": i.iri, "title": getattr(i, "label", None) or i.title}
            for i in page.items
        ]
    if kind is Kind.courses:
        return [{"slug": i.slug, "title": i.title, "provider": i.provider.slug} for i in page.items]
    return [
        {
            "slug": i.slug,
            "title": i.title,
            "provider": i.awarding_body.slug,
            "course": i.course.slug,
        }
        for i in page.items
    ]


@catalogue_app.command("list")
def list_entries(
    kind: Annotated[Kind, typer.Argument(help="what to list")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    limit: Annotated[int, typer.Option(help="at most this many (0: all)")] = 0,
) -> None:
    """List skills, job roles, courses or micro-credentials (slug, IRI or provider, title)."""
    listers: dict[Kind, Callable[..., Page[Any]]] = {
        Kind.skills: list_skills,
        Kind.job_roles: list_job_roles,
        Kind.courses: list_courses,
        Kind.micro_credentials: list_micro_credentials,
    }
    lister = listers[kind]
    rows: list[dict[str, str]] = []
    with database() as session:
        page_number = 1
        while True:
            page = lister(session, page=page_number, per_page=500)
            rows.extend(_rows(kind, page))
            if page_number * page.per_page >= page.total or (limit and len(rows) >= limit):
                break
            page_number += 1
    rows = rows[:limit] if limit else rows
    if as_json:
        _write_json(rows)
        return
    for row in rows:
        middle = row.get("iri") or row.get("provider", "")
        out.print(f"{row['slug']:50} {middle:30} {row['title']}", highlight=False)


@catalogue_app.command("gap")
def skills_gap(
    job_role: Annotated[str, typer.Argument(help="job role slug or ESCO occupation URI")],
    have: Annotated[
        list[str] | None, typer.Option("--have", help="a skill you have: IRI or slug (repeatable)")
    ] = None,
    badge: Annotated[
        list[str] | None,
        typer.Option(
            "--badge",
            help="a badge you hold: file (.json/.jwt/.png/.svg) or URL (repeatable); its "
            "skills count when it is valid and its issuer trusted",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The skills you miss for a job role and courses that close the gap."""
    from badges.verifying.proven_skills import proven_skills
    from skillshub.verifier import verification_context

    settings = load_settings()
    try:
        badges = [
            b if b.startswith(("https://", "http://")) else Path(b).read_bytes()
            for b in badge or []
        ]
    except OSError as exc:
        raise fail(f"cannot read a badge: {exc.strerror or exc}") from None
    with database(settings) as session:
        proven, held = proven_skills(verification_context(settings).bound(session), badges)
        result = gap.gap(session, job_role, [*(have or []), *proven])
    if as_json:
        _write_json(
            {
                "gap": result.model_dump(mode="json"),
                "proven_skills": proven,
                "credentials": [asdict(h) for h in held],
            }
            if badge
            else result.model_dump(mode="json")
        )
        return
    for h in held:
        counted = f"counted: {len(h.skills)} skill(s)" if h.counted else h.reason
        out.print(
            f"badge {h.achievement or '?'} ({h.issuer or '?'}): {counted}",
            highlight=False,
            markup=False,
        )
    out.print(
        f"[bold]{result.job_role.title}[/]: {len(result.have)} of {result.required} skills held, "
        f"{len(result.missing)} missing"
    )
    for skill in result.missing:
        tag = "essential" if skill.essential else "optional"
        out.print(f"  - {skill.label} ({tag}, {skill.level.value})", highlight=False)
    if result.path:
        out.print("[bold]Training path[/]:")
    for n, step in enumerate(result.path, start=1):
        out.print(
            f"  {n}. {step.course.title} ({step.course.provider.legal_name}) closes "
            f"{len(step.closes)} ({step.closes_share:.0%} of the gap)",
            highlight=False,
        )
    if result.uncovered:
        names = ", ".join(s.label for s in result.uncovered)
        out.print(f"[yellow]No course teaches[/]: {names}", highlight=False)


@catalogue_app.command("import-esco")
def import_esco(
    directory: Annotated[Path, typer.Argument(help="folder with the ESCO CSV files")],
    lang: Annotated[str, typer.Option("--lang", help="language of the files")] = "en",
    strict: Annotated[bool, typer.Option(help="any bad row fails the whole import")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import ESCO skills, occupations and their relations (idempotent upsert)."""
    columns = (
        TextColumn("{task.description:12}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    with (
        Progress(*columns, console=err, transient=as_json) as bar,
        database() as session,
    ):
        tasks: dict[str, Any] = {}

        def progress(kind: str, done: int, total: int) -> None:
            if kind not in tasks:
                tasks[kind] = bar.add_task(kind, total=total)
            bar.update(tasks[kind], completed=done)

        report = esco.import_esco(
            session, directory, language=lang, strict=strict, progress=progress
        )
    if as_json:
        _write_json(
            {
                **{k: vars(getattr(report, k)) for k in ("skills", "occupations", "relations")},
                "language": report.language,
                "files": report.files,
                "problem_count": report.problem_count,
                "problems": [vars(p) for p in report.problems],
            }
        )
        return
    table = Table("", "read", "new", "updated", "unchanged")
    for name in ("skills", "occupations", "relations"):
        c = getattr(report, name)
        table.add_row(name, *(str(v) for v in (c.read, c.inserted, c.updated, c.unchanged)))
    out.print(table)
    if report.problem_count:
        err.print(f"[yellow]{report.problem_count} bad row(s) skipped[/]:")
        for p in report.problems[:20]:
            err.print(f"  {p.file} line {p.line}: {p.message}", highlight=False, markup=False)
        if report.problem_count > 20:
            err.print(f"  … and {report.problem_count - 20} more (--json lists them)")


@catalogue_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="JSON file to write ('-': standard output)")],
    org: Annotated[str, typer.Option("--org", help="organisation slug")],
) -> None:
    """Export an organisation's courses and micro-credentials as catalogue JSON."""
    with database() as session:
        document = transfer.export_catalogue(session, organisations.get_organisation(session, org))
    text = document.model_dump_json(indent=2)
    if str(file) == "-":
        sys.stdout.write(text + "\n")
    else:
        write_file(file, text + "\n")
        out.print(f"exported {len(document.courses)} course(s) to {file}")


@catalogue_app.command("import")
def import_catalogue(
    file: Annotated[Path, typer.Argument(help="catalogue JSON ('-': standard input)")],
    org: Annotated[str, typer.Option("--org", help="organisation slug")],
) -> None:
    """Create or update (by slug) an organisation's courses and micro-credentials from JSON.
    All or nothing: any error leaves the catalogue unchanged."""
    try:
        raw = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        decoded = json.loads(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    except RecursionError:
        raise fail(f"cannot read {file}: the JSON is nested too deeply") from None
    from accounts import audit

    with database() as session:
        document = transfer.parse_export(decoded)
        organisation = organisations.get_organisation(session, org)
        summary = transfer.import_catalogue(session, organisation, document)
        audit.record(
            session,
            actor=audit.Actor.cli(),
            action="catalogue.import",
            organisation=organisation,
            details=summary.model_dump(),
            command=audit.command_line(["catalogue", "import", str(file), "--org", org]),
        )
    out.print(
        ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary.model_dump().items()),
        highlight=False,
    )


@catalogue_app.command("reindex")
def reindex() -> None:
    """Rebuild the search index from the catalogue."""
    with database() as session:
        changed = search.reindex(session)
    out.print(f"search index rebuilt ({changed} document(s) changed)")
