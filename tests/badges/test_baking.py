import base64
import io
import json
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from PIL import Image

from badges.baking import (
    SVG_NAMESPACE,
    BakingError,
    CredentialFormat,
    bake,
    bake_png,
    bake_svg,
    unbake,
    unbake_png,
    unbake_svg,
)
from tests.support.present import present
from tests.support.reference import reference

SVG_NS = "http://www.w3.org/2000/svg"
CREDENTIAL_TAG = f"{{{SVG_NAMESPACE}}}credential"


def fixture(name: str) -> bytes:
    return reference("ob3", "examples", "1edtech-validator-ob30", name).read_bytes()


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of every chunk, asserting each CRC: an oracle independent of baking.py."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        ctype, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        assert zlib.crc32(ctype + body) == crc
        chunks.append((ctype, body))
        pos += 12 + length
    return chunks


def credential_chunks(data: bytes) -> list[bytes]:
    return [
        b for t, b in png_chunks(data) if t == b"iTXt" and b.startswith(b"openbadgecredential\0")
    ]


def jwt_payload(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


PLAIN_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Grüße ]]> & <tags>",
}


# ── the 1EdTech validator's baked fixtures ─────────────────────────────────


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_unbake_1edtech_json_fixture(kind):
    baked = present(unbake(fixture(f"simple-json.{kind}")))
    assert baked.format is CredentialFormat.JSON
    credential = json.loads(baked.text)
    simple = json.loads(fixture("simple.json"))
    # Same credential as simple.json, signed with another key.
    assert {k: v for k, v in credential.items() if k != "proof"} == {
        k: v for k, v in simple.items() if k != "proof"
    }
    assert credential["proof"][0]["type"] == "DataIntegrityProof"


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_unbake_1edtech_vc2_jwt_fixture(kind):
    baked = present(unbake(fixture(f"simple-jwt.{kind}")))
    assert baked.format is CredentialFormat.JWS
    payload = jwt_payload(baked.text)
    # VC-JWT for VC DM 2.0: the credential is the payload, plus registered claims.
    assert "OpenBadgeCredential" in payload["type"]
    assert payload["jti"] == payload["id"]
    assert payload["iss"] == payload["issuer"]["id"]


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_unbake_1edtech_vc11_jwt_fixture(kind):
    baked = present(unbake(fixture(f"simple-jwt_v1.{kind}")))
    assert baked.format is CredentialFormat.JWS
    payload = jwt_payload(baked.text)
    assert payload["vc"]["@context"][0] == "https://www.w3.org/2018/credentials/v1"
    assert payload["jti"] == payload["vc"]["id"]


def test_png_and_svg_fixtures_carry_the_same_v1_token():
    assert unbake(fixture("simple-jwt_v1.png")) == unbake(fixture("simple-jwt_v1.svg"))


# ── PNG ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("credential", [CREDENTIAL, json.dumps(CREDENTIAL)])
def test_png_round_trip_json(credential):
    baked = bake_png(tiny_png(), credential)
    result = present(unbake_png(baked))
    assert result.format is CredentialFormat.JSON
    assert json.loads(result.text) == CREDENTIAL


def test_png_round_trip_jws_and_chunk_layout():
    token = present(unbake(fixture("simple-jwt.png"))).text
    source = tiny_png()
    baked = bake_png(source, token)
    assert present(unbake_png(baked)).text == token
    chunks = png_chunks(baked)
    assert [t for t, _ in chunks][-2:] == [b"iTXt", b"IEND"]
    # keyword, NUL, compression flag 0, method 0, empty language tag, empty translated keyword
    assert chunks[-2][1] == b"openbadgecredential\0\0\0\0\0" + token.encode()
    # Every original chunk survives byte for byte, in order.
    assert [c for c in chunks if c[0] != b"iTXt"] == png_chunks(source)
    Image.open(io.BytesIO(baked)).load()


def test_png_rebake_replaces_instead_of_duplicating():
    original = fixture("simple-json.png")
    token = present(unbake(fixture("simple-jwt.png"))).text
    once = bake_png(original, token)
    twice = bake_png(once, token)
    assert once == twice
    assert credential_chunks(twice) == [b"openbadgecredential\0\0\0\0\0" + token.encode()]
    assert len(png_chunks(twice)) == len(png_chunks(original))


def test_png_reads_a_compressed_itxt_chunk():
    text = json.dumps(CREDENTIAL).encode()
    body = b"openbadgecredential\0\1\0\0\0" + zlib.compress(text)
    baked = _with_chunk(tiny_png(), b"iTXt", body)
    assert json.loads(present(unbake_png(baked)).text) == CREDENTIAL


def test_png_compressed_itxt_bomb_is_refused():
    body = b"openbadgecredential\0\1\0\0\0" + zlib.compress(b"{" + bytes(8 * 1024 * 1024))
    bomb = _with_chunk(tiny_png(), b"iTXt", body)
    assert len(bomb) < 100_000
    with pytest.raises(BakingError, match="inflates past"):
        unbake_png(bomb)


def _with_chunk(png: bytes, ctype: bytes, body: bytes) -> bytes:
    chunk = (
        struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))
    )
    return png[:-12] + chunk + png[-12:]  # before IEND


def test_png_without_credential_gives_none():
    assert unbake_png(tiny_png()) is None


def test_corrupt_png_bad_crc():
    data = bytearray(fixture("simple-json.png"))
    data[200] ^= 0xFF  # inside the first IDAT chunk's data
    with pytest.raises(BakingError, match="bad CRC in IDAT"):
        unbake_png(bytes(data))
    with pytest.raises(BakingError, match="bad CRC"):
        bake_png(bytes(data), CREDENTIAL)


@pytest.mark.parametrize("cut", [8, 20, 50_000, -13, -1])
def test_corrupt_png_truncated(cut):
    data = fixture("simple-jwt.png")[:cut]
    with pytest.raises(BakingError, match="truncated"):
        unbake_png(data)


def test_not_a_png():
    with pytest.raises(BakingError, match="signature"):
        unbake_png(b"GIF89a" + bytes(100))


def test_png_size_limit():
    with pytest.raises(BakingError, match="limit"):
        unbake_png(tiny_png(), max_input_bytes=10)


def test_malformed_itxt_chunk():
    baked = _with_chunk(tiny_png(), b"iTXt", b"openbadgecredential\0\0\0no separators")
    with pytest.raises(BakingError, match="malformed"):
        unbake_png(baked)


# ── SVG ────────────────────────────────────────────────────────────────────


def credential_elements(svg: bytes) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(svg)
    return root, list(root.iter(CREDENTIAL_TAG))


@pytest.mark.parametrize("credential", [CREDENTIAL, json.dumps(CREDENTIAL)])
def test_svg_round_trip_json(credential):
    baked = bake_svg(PLAIN_SVG, credential)
    root, elements = credential_elements(baked)
    assert root[0] is elements[0] and len(elements) == 1
    assert "verify" not in elements[0].attrib
    assert json.loads(present(elements[0].text)) == CREDENTIAL
    assert b"<![CDATA[" in baked
    assert json.loads(present(unbake_svg(baked)).text) == CREDENTIAL
    assert baked.startswith(b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4" ')
    assert f'xmlns:openbadges="{SVG_NAMESPACE}"'.encode() in baked


def test_svg_round_trip_jws():
    token = present(unbake(fixture("simple-jwt.svg"))).text
    baked = bake_svg(PLAIN_SVG, token)
    root, elements = credential_elements(baked)
    assert root[0] is elements[0]
    assert elements[0].attrib == {"verify": token}
    assert unbake_svg(baked) == unbake(fixture("simple-jwt.svg"))


def test_svg_rebake_replaces_instead_of_duplicating():
    original = fixture("simple-json.svg")
    token = present(unbake(fixture("simple-jwt.svg"))).text
    once = bake_svg(original, token)
    twice = bake_svg(once, token)
    assert once == twice
    root, elements = credential_elements(twice)
    assert len(elements) == 1 and root[0] is elements[0]
    assert elements[0].get("verify") == token
    # The rest of the image is untouched.
    assert [e.tag for e in root][1:] == [e.tag for e in ET.fromstring(original)][1:]


def test_svg_self_closing_root():
    baked = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg"/>', CREDENTIAL)
    root, elements = credential_elements(baked)
    assert root.tag == f"{{{SVG_NS}}}svg" and list(root) == elements


def test_svg_with_prefix_bound_elsewhere_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"/>'
    with pytest.raises(BakingError, match="prefix"):
        bake_svg(svg, CREDENTIAL)


def test_svg_without_credential_gives_none():
    assert unbake_svg(PLAIN_SVG) is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&lol9;</openbadges:credential></svg>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&secret;</openbadges:credential></svg>"""


@pytest.mark.parametrize("svg", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_svg_entity_attacks_fail_cleanly(svg):
    with pytest.raises(BakingError, match="entity declarations"):
        unbake_svg(svg)
    with pytest.raises(BakingError, match="entity declarations"):
        bake_svg(svg, CREDENTIAL)


@pytest.mark.parametrize(
    "svg, message",
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "well-formed"),
        (b"<html/>", "not <svg>"),
        (b"<svg><openbadges:credential/></svg>", "well-formed"),  # unbound prefix
    ],
)
def test_svg_malformed(svg, message):
    with pytest.raises(BakingError, match=message):
        unbake_svg(svg)


def test_svg_non_utf8_is_not_baked():
    svg = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + PLAIN_SVG
    with pytest.raises(BakingError, match="UTF-8"):
        bake_svg(svg, CREDENTIAL)


# ── shared ─────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("credential", ["not a credential", "[1, 2]", "{broken"])
def test_bake_refuses_what_is_neither_json_object_nor_jws(credential):
    with pytest.raises(BakingError):
        bake(PLAIN_SVG, credential)


def test_bake_and_unbake_dispatch_on_format():
    assert png_chunks(bake(tiny_png(), CREDENTIAL))
    assert json.loads(present(unbake(bake(tiny_png(), CREDENTIAL))).text) == CREDENTIAL
    assert json.loads(present(unbake(bake(PLAIN_SVG, CREDENTIAL))).text) == CREDENTIAL


@pytest.mark.interop
def test_openbadgeslib_unbakes_what_we_bake():
    from openbadgeslib import baking as oblib

    token = present(unbake(fixture("simple-jwt.png"))).text
    text = json.dumps(CREDENTIAL)
    keyword = oblib.ITXT_KEYWORD_OB3
    element = oblib.SVG_ELEMENT_OB3
    assert present(oblib.extract_png(bake_png(tiny_png(), token), keyword=keyword)) == token
    assert (
        json.loads(present(oblib.extract_png(bake_png(tiny_png(), text), keyword=keyword)))
        == CREDENTIAL
    )
    assert oblib.extract_svg(bake_svg(PLAIN_SVG, token), element=element) == token
    baked_json = bake_svg(fixture("simple-jwt.svg"), CREDENTIAL)
    extracted = oblib.extract_svg(baked_json, element=element, text_fallback=True)
    assert json.loads(present(extracted)) == CREDENTIAL


@pytest.mark.interop
def test_we_unbake_what_openbadgeslib_bakes():
    from openbadgeslib import baking as oblib

    token = present(unbake(fixture("simple-jwt.png"))).text
    png = oblib.bake_png(tiny_png(), token, keyword=oblib.ITXT_KEYWORD_OB3)
    assert present(unbake_png(png)).text == token
    svg = oblib.bake_svg(
        PLAIN_SVG, token, element=oblib.SVG_ELEMENT_OB3, namespace=oblib.SVG_NS_OB3
    )
    assert present(unbake_svg(svg)).text == token
