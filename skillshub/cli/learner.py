"""`skillshub bake`: a credential baked into its badge image, from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from badges import issuing
from badges.sharing import images
from skillshub.cli.common import (
    CREDENTIAL_HELP,
    app,
    database,
    err,
    fail,
    load_settings,
    write_file,
)


@app.command()
def bake(
    credential_id: Annotated[str, typer.Argument(help=CREDENTIAL_HELP)],
    out_file: Annotated[Path, typer.Option("--out", help="the image file to write")],
    png: Annotated[bool, typer.Option("--png", help="a PNG with an iTXt chunk")] = False,
    svg: Annotated[bool, typer.Option("--svg", help="an SVG with an openbadges element")] = False,
) -> None:
    """Write the badge image with the signed credential baked in (JSON or the JWS, verbatim).

    The image is the micro-credential's uploaded one, else a generated default."""
    if png == svg:
        raise fail("choose one of --png and --svg", 2)
    settings = load_settings()
    with database(settings) as session:
        uuid = issuing.credential_uuid_of(session, credential_id, settings.base_url)
        record = issuing.get_credential(session, uuid)
        content = images.baked(session, record, "png" if png else "svg")
    write_file(out_file, content)
    err.print(f"baked credential {record.uuid} → {out_file} ({len(content)} bytes)")
