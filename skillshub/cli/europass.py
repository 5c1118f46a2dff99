"""`skillshub seal import|list` and `skillshub export-europass`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from accounts.audit import Actor, command_line
from accounts.identity import record_seal_import
from badges import europass, issuing
from catalogue import organisations
from catalogue.base import pk
from keys import eseal
from keys.store import ensure_master_key
from skillshub.cli.common import (
    CREDENTIAL_HELP,
    app,
    database,
    err,
    fail,
    load_settings,
    out,
    write_file,
)
from skillshub.verifier import seal_revocation

seal_app = typer.Typer(
    help="E-seal certificates for Europass credentials (JAdES).", no_args_is_help=True
)
app.add_typer(seal_app, name="seal")

QUALIFIED_NOTE = (
    "Europass's SEAL check accepts a qualified e-seal certificate from an EU trust service "
    "provider; a self-signed certificate is for testing only."
)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read the {what} {path}: {exc.strerror}") from None


def _secret(variable: str | None) -> str | None:
    """A password from the named environment variable (never from the command line)."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise fail(f"environment variable {variable} is not set")
    return value


@seal_app.command("import")
def seal_import(
    org: Annotated[str, typer.Option("--org", help="Organisation slug")],
    pkcs12_file: Annotated[
        Path | None, typer.Option("--pkcs12", help="PKCS#12 (.p12/.pfx) with key and chain")
    ] = None,
    password_env: Annotated[
        str | None, typer.Option("--password-env", help="env variable holding the password")
    ] = None,
    cert: Annotated[Path | None, typer.Option("--cert", help="certificate PEM")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="private key PEM")] = None,
    chain: Annotated[Path | None, typer.Option("--chain", help="issuer certificates PEM")] = None,
) -> None:
    """Import an organisation's e-seal certificate; it becomes the one Europass exports use."""
    if (pkcs12_file is None) == (cert is None):
        raise fail("give either --pkcs12 FILE or --cert PEM --key PEM", code=2)
    if cert is not None and key is None:
        raise fail("a certificate without a private key cannot seal: give --key PEM", code=2)
    password = _secret(password_env)
    settings = load_settings()
    with database(settings) as session:
        if pkcs12_file is not None:
            leaf, private_key, others = eseal.load_pkcs12(_read(pkcs12_file, "file"), password)
        else:
            assert cert is not None and key is not None
            leaf, private_key, others = eseal.load_pem(
                _read(cert, "certificate"),
                _read(key, "key"),
                _read(chain, "chain") if chain else None,
                password,
            )
        organisation = organisations.get_organisation(session, org)
        master_key = ensure_master_key(session, settings.resolved_master_key())
        record = eseal.import_certificate(
            session, master_key, organisation, leaf, private_key, others
        )
        argv = ["seal", "import", "--org", org]
        for flag, value in (("--pkcs12", pkcs12_file), ("--cert", cert), ("--key", key)):
            argv += [flag, str(value)] if value is not None else []
        argv += ["--chain", str(chain)] if chain is not None else []
        argv += ["--password-env", password_env] if password_env else []  # the name, not it
        record_seal_import(session, record, actor=Actor.cli(), command=command_line(argv))
        out.print(
            f"imported e-seal certificate for [bold]{organisation.slug}[/]: {record.subject}\n"
            f"  valid until {record.not_after:%Y-%m-%d}, eIDAS identifier "
            f"{record.organisation_identifier}",
            highlight=False,
        )
        if record.self_signed:
            err.print(f"[yellow]warning:[/] self-signed certificate. {QUALIFIED_NOTE}")


@seal_app.command("list")
def seal_list(
    org: Annotated[str, typer.Option("--org", help="Organisation slug")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List an organisation's e-seal certificates (the active one first)."""
    with database() as session:
        organisation = organisations.get_organisation(session, org)
        rows: list[dict[str, Any]] = [
            {
                "subject": r.subject,
                "issuer": r.issuer,
                "eidas_identifier": r.organisation_identifier,
                "not_after": r.not_after.isoformat(),
                "self_signed": r.self_signed,
                "active": r.active,
                "fingerprint": r.fingerprint,
            }
            for r in sorted(
                eseal.list_certificates(session, pk(organisation)), key=lambda r: not r.active
            )
        ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for row in rows:
        flags = " ".join(
            f
            for f in ("active" if row["active"] else "", "TEST" if row["self_signed"] else "")
            if f
        )
        out.print(f"{row['not_after'][:10]}  {flags:12} {row['subject']}", highlight=False)


@app.command("export-europass")
def export_europass(
    credential_id: Annotated[str, typer.Argument(help=CREDENTIAL_HELP)],
    out_file: Annotated[Path | None, typer.Option("--out", help="write here, not stdout")] = None,
) -> None:
    """Export an award as a Europass credential: sealed (JAdES) with the provider's e-seal
    certificate, or the EDC Issuer's uploadable form when it has none."""
    settings = load_settings()
    with database(settings) as session:
        master_key = ensure_master_key(session, settings.resolved_master_key())
        uuid = issuing.credential_uuid_of(session, credential_id, settings.base_url)
        seal = seal_revocation(settings)
        export = europass.export_europass(
            session,
            master_key,
            uuid,
            base_url=settings.base_url,
            tsa_url=settings.tsa_url,
            tsa_timeout=settings.fetch_timeout_seconds,
            revocation_fetch=seal.fetch,
            trust_anchors=seal.trust_anchors,
        )
    text = export.text() + "\n"
    if out_file is None:
        sys.stdout.write(text)
    else:
        write_file(out_file, text)
    kind = (
        f"sealed (JAdES-{export.level})"
        if export.sealed
        else "unsealed, uploadable to the EDC Issuer"
    )
    err.print(f"Europass credential {kind}" + (f" written to {out_file}" if out_file else ""))
    for note in export.notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False)
