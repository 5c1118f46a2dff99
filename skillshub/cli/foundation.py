"""`skillshub init`, `serve`, `demo`, `org …` and `token …`: setting up and running."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Annotated

import typer

from catalogue import organisations
from catalogue.base import pk
from catalogue.errors import DomainError
from skillshub.cli.common import app, database, err, fail, load_settings, out
from skillshub.files import private_dir
from skillshub.settings import Settings

org_app = typer.Typer(help="Provider organisations.", no_args_is_help=True)
token_app = typer.Typer(
    help="API tokens (shown once, stored only as a hash).", no_args_is_help=True
)
app.add_typer(org_app, name="org")
app.add_typer(token_app, name="token")


@app.command()
def init() -> None:
    """Create the data directory, the master key (if none is set) and the database."""
    from keys.store import ensure_master_key, init_master_key

    settings = load_settings()
    private_dir(settings.data_dir)
    try:
        created = init_master_key(settings.resolved_master_key(), settings.master_key_path)
    except DomainError as exc:
        raise fail(exc.message) from None
    with database(settings) as session:
        ensure_master_key(session, settings.resolved_master_key())
    where = settings.master_key_path if created else "existing"
    out.print(f"[green]ready[/]: data in {settings.data_dir.resolve()}, master key {where}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default SKILLSHUB_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SKILLSHUB_PORT)")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="web worker processes sharing the port")
    ] = 1,
) -> None:
    """Run the web server (migrates the database first, once, under a lock)."""
    import uvicorn

    from skillshub.verifier import verification_context
    from skillshub.web import access_log
    from skillshub.web.app import create_app, prepare

    settings = load_settings()
    try:
        application = create_app(settings)
        # Here rather than in the app's start-up: a bad setting is a message, not a traceback.
        application.state.master_key = prepare(settings, application.state.engine)
        application.state.verification = verification_context(settings)
    except DomainError as exc:
        raise fail(exc.message) from None
    access_log.install()
    registry = getattr(application.state, "metrics_registry", None)
    if settings.metrics_address and registry is not None and workers > 1:
        err.print(
            "[yellow]warning:[/] SKILLSHUB_METRICS on its own address serves one process's "
            "figures: not started with --workers above 1 (use SKILLSHUB_METRICS=on)"
        )
    elif settings.metrics_address and registry is not None:
        from prometheus_client import start_http_server

        metrics_host, metrics_port = settings.metrics_address
        start_http_server(metrics_port, addr=metrics_host, registry=registry)
        err.print(f"metrics on http://{metrics_host}:{metrics_port}/metrics", highlight=False)
    # log_config=None: uvicorn's lines go through skillshub.logs (format, request id, scrubbing);
    # proxy_headers=False: forwarded headers are believed only from SKILLSHUB_TRUSTED_PROXIES.
    options = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_config": None,
        "proxy_headers": False,
    }
    if workers == 1:
        uvicorn.run(application, **options)  # type: ignore[arg-type]  # options' value types
        return
    # Each worker process builds its own app (skillshub.web.app.worker_app) from the same
    # environment; the database is already migrated, so their start-up only checks it.
    application.state.engine.dispose()
    uvicorn.run(
        "skillshub.web.app:worker_app",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]  # options' value types
    )


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="worker processes on this host (CPU-bound work)")
    ] = 1,
) -> None:
    """Work the bulk-job queue (PostgreSQL): run it on any number of hosts sharing the
    database; a worker that dies mid-job has its chunks taken over by the others."""
    from keys.store import ensure_master_key
    from skillshub.db import make_engine, session_scope, upgrade, writer
    from skillshub.jobs import Runtime, run_worker

    settings = load_settings()
    try:
        engine = make_engine(settings.sqlalchemy_url)
        if engine.dialect.name != "postgresql":
            raise fail(
                "workers need PostgreSQL (SKILLSHUB_DATABASE_URL): with the embedded SQLite "
                "database the web process and the CLI run bulk jobs themselves",
                2,
            )
        upgrade(engine)  # once, under the migration lock, whoever starts first
        with session_scope(engine) as session:
            master_key = ensure_master_key(session, settings.resolved_master_key())
    except DomainError as exc:
        raise fail(exc.message) from None
    err.print(f"worker: {concurrency} process(es) on the job queue", highlight=False)
    if concurrency == 1:
        run_worker(Runtime(settings, writer(engine), master_key))
        return
    engine.dispose()
    _worker_processes(settings, concurrency)


def _worker_processes(settings: Settings, count: int) -> None:
    """`count` worker processes; SIGINT/SIGTERM here stops them all (each finishes its task)."""
    import multiprocessing
    import signal

    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_worker_process, args=(settings,), daemon=False)
        for _ in range(count)
    ]
    for child in children:
        child.start()

    def stop(_signum: int, _frame: object) -> None:
        for child in children:
            if child.is_alive() and child.pid:
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


def _worker_process(settings: Settings) -> None:
    from keys.store import ensure_master_key
    from skillshub.db import make_engine, session_scope, writer
    from skillshub.jobs import Runtime, run_worker

    engine = make_engine(settings.sqlalchemy_url)
    with session_scope(engine) as session:
        master_key = ensure_master_key(session, settings.resolved_master_key())
    run_worker(Runtime(settings, writer(engine), master_key))


@app.command()
def demo() -> None:
    """Load the demo catalogue and issuer (idempotent: run it as often as you like)."""
    from skillshub.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD, demo_owner_emails, load_demo

    settings = load_settings()
    with database(settings) as session:
        summary = load_demo(session, settings)
    out.print("[green]demo data ready[/]: " + ", ".join(f"{v} {k}" for k, v in summary.items()))
    out.print(
        f"Provider console: {settings.base_url}/console/login — sign in as "
        f"{' or '.join(demo_owner_emails())} with the demo password {DEMO_PASSWORD!r} "
        "(owner role).",
        highlight=False,
        markup=False,
    )
    out.print(
        f"Hub operator (the demo alliance, reviews and endorses): sign in as "
        f"{DEMO_OPERATOR_EMAIL} with the same password.",
        highlight=False,
        markup=False,
    )


@org_app.command("create")
def org_create(
    legal_name: Annotated[str, typer.Argument(help="Legal name of the provider")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code")],
    slug: Annotated[str | None, typer.Option(help="URL slug (default: from the name)")] = None,
    registration_id: Annotated[str | None, typer.Option(help="Business registration id")] = None,
    homepage: Annotated[str | None, typer.Option()] = None,
    logo_url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a provider organisation."""
    with database() as session:
        org = organisations.create_organisation(
            session,
            legal_name=legal_name,
            country=country,
            slug=slug,
            registration_id=registration_id,
            homepage=homepage,
            logo_url=logo_url,
        )
        out.print(f"created organisation [bold]{org.slug}[/]")


@org_app.command("list")
def org_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List provider organisations."""
    with database() as session:
        orgs = organisations.list_organisations(session)
        rows = [{"slug": o.slug, "legal_name": o.legal_name, "country": o.country} for o in orgs]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        for row in rows:
            out.print(f"{row['slug']:30} {row['country']}  {row['legal_name']}", highlight=False)


@token_app.command("create")
def token_create(
    org: Annotated[str, typer.Option("--org", help="Organisation slug")],
    name: Annotated[str, typer.Option(help="A label for the token")] = "default",
    expires_days: Annotated[
        int | None,
        typer.Option(
            "--expires-days", min=1, max=3650, help="Stop working after N days (default: never)"
        ),
    ] = None,
) -> None:
    """Create an API token for an organisation. It is printed once; store it safely."""
    from accounts.api_tokens import record_created
    from accounts.audit import Actor, command_line
    from keys.tokens import create_token, when

    argv = ["token", "create", "--org", org, "--name", name]
    argv += ["--expires-days", str(expires_days)] if expires_days is not None else []
    with database() as session:
        organisation = organisations.get_organisation(session, org)
        token, record = create_token(session, pk(organisation), name, expires_days=expires_days)
        record_created(
            session,
            record,
            actor=Actor.cli(),
            organisation=organisation,
            command=command_line(argv),
        )
    until = f", expires {when(record.expires_at)}" if record.expires_at else ""
    err.print(f"API token {record.id}{until} (shown once, only its hash is stored):")
    sys.stdout.write(token + "\n")


@token_app.command("list")
def token_list(
    org: Annotated[str, typer.Option("--org", help="Organisation slug")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List an organisation's API tokens (never the secrets): revoked and expired ones too."""
    from keys.tokens import list_tokens, token_state, when

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    with database() as session:
        organisation = organisations.get_organisation(session, org)
        found = list_tokens(session, pk(organisation))
    if as_json:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "state": token_state(t),
                "created_at": iso(t.created_at),
                "expires_at": iso(t.expires_at),
                "last_used_at": iso(t.last_used_at),
                "revoked_at": iso(t.revoked_at),
            }
            for t in found
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not found:
        err.print(f"organisation {org} has no API tokens", highlight=False, markup=False)
    for t in found:
        # The prefix is what listings show to tell tokens apart; the secret is never stored.
        line = (
            f"{t.id:>5}  {t.prefix}…  {token_state(t):8}  created {when(t.created_at)}"
            f"  expires {when(t.expires_at) if t.expires_at else 'never'}"
            f"  last used {when(t.last_used_at) if t.last_used_at else 'never'}"
        )
        if t.revoked_at:
            line += f"  revoked {when(t.revoked_at)}"
        out.print(f"{line}  {t.name}", highlight=False, markup=False)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`)")],
) -> None:
    """Revoke an API token: requests with it are refused from now on."""
    from accounts.api_tokens import revoke_and_record
    from accounts.audit import Actor, command_line
    from keys.tokens import when

    with database() as session:
        record = revoke_and_record(
            session,
            token_id,
            None,
            actor=Actor.cli(),
            command=command_line(["token", "revoke", str(token_id)]),
        )
    # Revoking twice keeps the first time: the line is true either way.
    revoked = when(record.revoked_at) if record.revoked_at else "?"
    out.print(
        f"token {token_id} ({record.prefix}…, {record.name}) revoked on {revoked}",
        highlight=False,
        markup=False,
    )
