"""`skillshub endorse`: an organisation endorses another's micro-credential (or course, or
organisation) with a signed Open Badges 3.0 EndorsementCredential (issue 20)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from accounts import audit
from accounts.audit import Actor
from badges import endorsing
from catalogue.organisations import get_organisation
from keys.store import ensure_master_key
from skillshub.cli.common import app, check_writable, database, err, load_settings, write_file


@app.command("endorse")
def endorse(
    slug: Annotated[str, typer.Argument(help="the micro-credential's slug (or --course, --about)")],
    org: Annotated[str, typer.Option("--org", help="the endorsing organisation's slug")],
    comment: Annotated[
        str, typer.Option(help="why the organisation endorses it")
    ] = "Endorsed by the alliance.",
    about: Annotated[
        str, typer.Option(help="micro_credential (default), course or organisation")
    ] = "micro_credential",
    valid_until: Annotated[
        datetime | None, typer.Option(help="end of the endorsement's validity (default: none)")
    ] = None,
    issuer: Annotated[str | None, typer.Option(help="the endorser's issuer slug")] = None,
    fmt: Annotated[str, typer.Option("--format", help="ldp (Data Integrity) or jwt")] = "ldp",
    out_file: Annotated[Path | None, typer.Option("--out", help="write here, not stdout")] = None,
) -> None:
    """Sign an endorsement and print it; awards of the micro-credential issued from now on
    carry it. Revoke it with the API (POST /api/v1/endorsements/{uuid}/revoke)."""
    if fmt not in ("ldp", "jwt"):
        raise typer.BadParameter("--format is ldp or jwt")
    if out_file:
        check_writable(out_file)
    settings = load_settings()
    with database(settings) as session:
        master_key = ensure_master_key(session, settings.resolved_master_key())
        endorser = get_organisation(session, org)
        row = endorsing.endorse(
            session,
            master_key,
            endorser=endorser,
            subject_kind=about,
            subject_key=slug,
            comment=comment,
            valid_until=valid_until,
            issuer_slug=issuer,
            base_url=settings.base_url,
            jwt_algorithm=settings.jwt_algorithm,
        )
        audit.record(
            session,
            actor=Actor.cli(),
            action="endorsement.create",
            organisation=endorser,
            subject_type="endorsement",
            subject_id=row.uuid,
            details={"about": about, "slug": slug},
            command=audit.command_line(["endorse", slug, "--org", org, "--about", about]),
        )
        text = (
            row.signed_jwt
            if fmt == "jwt"
            else json.dumps(endorsing.document(row), ensure_ascii=False, indent=2)
        )
        uuid = row.uuid
    if out_file:
        write_file(out_file, text + "\n")
        err.print(f"endorsement {uuid} → {out_file}")
    else:
        sys.stdout.write(text + "\n")
