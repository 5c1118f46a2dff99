"""`skillshub issuer …`: an issuer's keys."""

from __future__ import annotations

from typing import Annotated

import typer

from skillshub.cli.common import app, database, load_settings, out

issuer_app = typer.Typer(help="Issuers and their signing keys.", no_args_is_help=True)
app.add_typer(issuer_app, name="issuer")


@issuer_app.command("rotate-key")
def rotate_key(slug: Annotated[str, typer.Argument(help="The issuer's slug")]) -> None:
    """Sign from now on with new keys; the old keys stay published, so the credentials they
    signed still verify."""
    from accounts.audit import Actor, command_line
    from accounts.identity import rotate_and_record
    from badges.issuing.issuers import get_issuer
    from keys.store import ensure_master_key

    settings = load_settings()
    with database(settings) as session:
        master_key = ensure_master_key(session, settings.resolved_master_key())
        issuer = get_issuer(session, slug)
        new = rotate_and_record(
            session,
            master_key,
            issuer,
            actor=Actor.cli(),
            command=command_line(["issuer", "rotate-key", slug]),
        )
    for record in new:
        out.print(f"new {record.algorithm} key {record.id}: {record.kid}", highlight=False)
    out.print(
        f"issuer {slug}: new credentials are signed with the new keys; the old keys stay "
        "published in its DID document and JWKS, so what they signed still verifies",
        highlight=False,
        markup=False,
    )
