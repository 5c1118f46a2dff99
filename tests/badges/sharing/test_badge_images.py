"""Badge image upload (validation, refusals that change nothing), serving, and baking into it;
the generated defaults; `skillshub bake`."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from badges import baking
from badges.models import BadgeImage, IssuedCredential
from badges.sharing import images
from catalogue.models import MicroCredential
from skillshub.cli import app
from tests.support.present import present
from tests.support.world import World, make_world

SVG_BADGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    b'width="300" height="300" viewBox="0 0 300 300">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#1d4ed8"/></linearGradient>'
    b"<style>.t { fill: url(#g); }</style></defs>"
    b'<circle class="t" cx="150" cy="150" r="140" fill="url(#g)"/>'
    b'<use xlink:href="#g"/></svg>'
)


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _png(size: tuple[int, int] = (320, 320), color: str = "#047857") -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb_png(side: int = 60_000) -> bytes:
    """A few hundred bytes claiming side x side pixels of zeros: a decompression bomb."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (side + 1) * 64, 9)  # the start of the image data
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def _put(client: TestClient, world: World, data: bytes, content_type: str, slug: str = ""):
    return client.put(
        f"/api/v1/micro-credentials/{slug or world.mc.slug}/image",
        content=data,
        headers=_auth(world) | {"content-type": content_type},
    )


def _stored(engine: Engine) -> list[tuple[str, bytes]]:
    with Session(engine) as fresh:
        return [(i.media_type, i.data) for i in fresh.exec(select(BadgeImage))]


def _image_url(engine: Engine, slug: str) -> str | None:
    with Session(engine) as fresh:
        mc = fresh.exec(select(MicroCredential).where(MicroCredential.slug == slug)).one()
        return mc.badge_image_url


def _issue_public(client: TestClient, world: World, engine: Engine, fmt: str = "ldp") -> str:
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={
            "micro_credential": world.mc.slug,
            "name": "Ada Lovelace",
            "email": "ada@example.org",
            "format": fmt,
        },
        headers=_auth(world),
    )
    credential_id = response.json()["id"]
    with Session(engine) as fresh:
        record = fresh.exec(
            select(IssuedCredential).where(IssuedCredential.uuid == credential_id)
        ).one()
        record.public = True
        fresh.add(record)
        fresh.commit()
    return credential_id


def test_png_upload_is_served_and_baked_into(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = _put(client, world, _png(), "image/png")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["media_type"], body["width"], body["height"]) == ("image/png", 320, 320)
    url = f"http://testserver/micro-credentials/{world.mc.slug}/image"
    assert body["url"] == url and _image_url(engine, world.mc.slug) == url
    served = client.get(f"/micro-credentials/{world.mc.slug}/image")
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (320, 320)
    cached = client.get(
        f"/micro-credentials/{world.mc.slug}/image",
        headers={"if-none-match": served.headers["etag"]},
    )
    assert cached.status_code == 304

    credential_id = _issue_public(client, world, engine)
    png = client.get(f"/credentials/{credential_id}/badge.png").content
    assert Image.open(io.BytesIO(png)).getpixel((10, 10)) == (4, 120, 87, 255)
    assert baking.unbake(png) is not None
    # The PNG also serves the SVG badge, inline.
    svg = client.get(f"/credentials/{credential_id}/badge.svg").content
    assert b"data:image/png;base64," in svg and baking.unbake(svg) is not None


def test_svg_upload_is_baked_into(client: TestClient, world: World, engine: Engine) -> None:
    response = _put(client, world, SVG_BADGE, "image/svg+xml")
    assert response.status_code == 200, response.text
    assert (response.json()["width"], response.json()["height"]) == (300, 300)
    served = client.get(f"/micro-credentials/{world.mc.slug}/image")
    assert served.content == SVG_BADGE
    assert "default-src 'none'" in served.headers["content-security-policy"]
    credential_id = _issue_public(client, world, engine, fmt="jwt")
    svg = client.get(f"/credentials/{credential_id}/badge.svg").content
    assert b'<circle class="t"' in svg
    assert present(baking.unbake(svg)).format is baking.CredentialFormat.JWS
    # No raster form of an SVG upload: the PNG badge is the generated default.
    png = client.get(f"/credentials/{credential_id}/badge.png").content
    assert Image.open(io.BytesIO(png)).size == (600, 600)


def test_oversized_upload_is_refused_and_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    assert _put(client, world, _png(color="#b91c1c"), "image/png").status_code == 200
    before = _stored(engine)
    huge = _png() + os.urandom(images.MAX_UPLOAD_BYTES)  # a real PNG, then too much
    response = _put(client, world, huge, "image/png")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert _stored(engine) == before


@pytest.mark.parametrize(
    ("data", "content_type", "status", "says"),
    [
        (b"hello, world", "text/plain", 415, "image/png"),
        (b"hello, world", "image/png", 422, "not a PNG"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif", 415, "image/svg+xml"),
        (_png()[:60], "image/png", 422, "PNG"),
        (_bomb_png(), "image/png", 422, "pixels"),
        (_png((5000, 10)), "image/png", 422, "per side"),
        (b"<html><body>hi</body></html>", "image/svg+xml", 422, "not an SVG"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
            422,
            "<script>",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>',
            "image/svg+xml",
            422,
            "event handler",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<image x:href="https://tracker.example/p.png"/></svg>',
            "image/svg+xml",
            422,
            "external",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"/></svg>',
            "image/svg+xml",
            422,
            "script",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://x.example/a.css);'
            b"</style></svg>",
            "image/svg+xml",
            422,
            "import",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://x.example/f)"/>'
            b"</svg>",
            "image/svg+xml",
            422,
            "external",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "image/svg+xml",
            422,
            "DOCTYPE",
        ),
        (
            b'<?xml-stylesheet href="https://x.example/a.css"?>'
            b'<svg xmlns="http://www.w3.org/2000/svg"/>',
            "image/svg+xml",
            422,
            "processing instructions",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
            "image/svg+xml",
            422,
            "foreignObject",
        ),
        (  # the review's payloads: an animation rewriting a link, CSS escapes
            b'<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" '
            b'to="java&#9;script:alert(1)"/></svg>',
            "image/svg+xml",
            422,
            "<set> elements are not allowed",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:u\\72l(https://x.example/f)"/>'
            b"</svg>",
            "image/svg+xml",
            422,
            "external",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@\\69mport "https://x.example/a.css";'
            b"</style></svg>",
            "image/svg+xml",
            422,
            "@import",
        ),
        (b"<svg><rect/></svg>", "image/svg+xml", 422, "not an SVG <svg>"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>', "image/svg+xml", 422, "well"),
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(
    client: TestClient,
    world: World,
    engine: Engine,
    data: bytes,
    content_type: str,
    status: int,
    says: str,
) -> None:
    assert _put(client, world, SVG_BADGE, "image/svg+xml").status_code == 200
    before = _stored(engine)
    response = _put(client, world, data, content_type)
    assert response.status_code == status, response.text
    assert says in response.json()["error"]["message"]
    assert _stored(engine) == before


def test_upload_needs_the_owning_organisation(
    client: TestClient, world: World, session: Session, master_key: str, engine: Engine
) -> None:
    other = make_world(session, master_key, slug="otheracademy")
    response = _put(client, other, _png(), "image/png", slug=world.mc.slug)
    assert response.status_code == 403
    no_token = client.put(
        f"/api/v1/micro-credentials/{world.mc.slug}/image",
        content=_png(),
        headers={"content-type": "image/png"},
    )
    assert no_token.status_code == 401
    assert _stored(engine) == []


def test_delete_upload_restores_the_default(
    client: TestClient, world: World, engine: Engine
) -> None:
    assert _put(client, world, _png(), "image/png").status_code == 200
    assert (
        client.delete(
            f"/api/v1/micro-credentials/{world.mc.slug}/image", headers=_auth(world)
        ).status_code
        == 204
    )
    assert _stored(engine) == [] and _image_url(engine, world.mc.slug) is None
    # The drawn default again, not the upload: credentials always name an image (issue 18).
    served = client.get(f"/micro-credentials/{world.mc.slug}/image")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content != _png()


def test_generated_defaults() -> None:
    png = images.default_png("Safe work with high voltage & batteries", "Volt <Academy>")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (600, 600)
        assert image.getpixel((300, 25)) != image.getpixel((5, 5))  # the ring is drawn
    svg = images.default_svg("Safe work with high voltage & batteries", "Volt <Academy>")
    assert images._check_svg(svg) == (600, 600)  # passes our own upload rules
    assert b"Volt &lt;Academy&gt;" in svg and b"&amp; batteries" in svg
    baked = baking.bake_svg(svg, {"id": "urn:x"})
    assert present(baking.unbake(baked)).text == '{"id":"urn:x"}'


def test_cli_bake_writes_a_baked_image(
    client: TestClient, world: World, engine: Engine, tmp_path: Path, db_url: str, master_key: str
) -> None:
    credential_id = _issue_public(client, world, engine)
    env = {
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_DATA_DIR": str(tmp_path / "cli-data"),
        "SKILLSHUB_BASE_URL": "http://testserver",
    }
    runner = CliRunner()
    with Session(engine) as fresh:
        stored = (
            fresh.exec(select(IssuedCredential).where(IssuedCredential.uuid == credential_id))
            .one()
            .signed
        )
    # By its UUID, and by its id as `issue` prints it (issue 15).
    id_url = f"http://testserver/credentials/{credential_id}"
    for flag, name in (("--png", credential_id), ("--svg", id_url)):
        out = tmp_path / f"badge{flag.replace('--', '.')}"
        result = runner.invoke(app, ["bake", name, flag, "--out", str(out)], env=env)
        assert result.exit_code == 0, result.output
        assert present(baking.unbake(out.read_bytes())).text == stored.strip()
    both = runner.invoke(app, ["bake", credential_id, "--out", str(tmp_path / "x")], env=env)
    assert both.exit_code == 2
    unknown = runner.invoke(app, ["bake", "nope", "--png", "--out", str(tmp_path / "y")], env=env)
    assert unknown.exit_code == 1 and "does not exist" in unknown.output
