"""Bake an Open Badges 3.0 credential into a PNG or SVG image and extract it again.

OB 3.0 §5.3 (Baked Badge):
- PNG: one ``iTXt`` chunk, keyword ``openbadgecredential``, uncompressed, empty language
  tag and translated keyword; the text is the credential JSON or the compact JWS.
- SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the root ``<svg>`` and
  an ``<openbadges:credential>`` element directly after the ``<svg>`` tag; a JWS goes in
  its ``verify`` attribute, JSON in a CDATA section.
There must be only one credential per image: baking replaces an existing one.

Extraction runs on untrusted uploads before any signature check, so every input is
bounded: image size, decompressed text size, chunk CRCs, and XML without entity
declarations (no billion laughs, no external entities).
"""

import json
import re
import struct
import xml.parsers.expat
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn

PNG_KEYWORD = b"openbadgecredential"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_PREFIX = "openbadges"
# Some bakers in the wild declare the OB *context* base URL as the namespace; reading
# those badges costs nothing, and the credential inside is verified on its own merits.
_SVG_NAMESPACES_READ = frozenset({SVG_NAMESPACE, "https://purl.imsglobal.org/spec/ob/v3p0"})

MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_CREDENTIAL_BYTES = 4 * 1024 * 1024

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MAX_CHUNK = 2**31 - 1
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
# XML start tag; only used on input expat has already accepted as well-formed.
_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")


class BakingError(ValueError):
    """An image cannot be baked or its credential cannot be extracted."""


class CredentialFormat(StrEnum):
    JSON = "json"  # embedded proof (Data Integrity): the credential document
    JWS = "jws"  # VC-JWT: the compact JWS


@dataclass(frozen=True)
class BakedCredential:
    text: str
    format: CredentialFormat


def _classify(text: str) -> CredentialFormat:
    if _COMPACT_JWS.fullmatch(text):
        return CredentialFormat.JWS
    if text.startswith("{"):
        return CredentialFormat.JSON
    raise BakingError("the baked credential is neither JSON nor a compact JWS")


def _credential_text(credential: str | Mapping[str, Any]) -> tuple[str, CredentialFormat]:
    if isinstance(credential, Mapping):
        return json.dumps(
            credential, ensure_ascii=False, separators=(",", ":")
        ), CredentialFormat.JSON
    text = credential.strip()
    kind = _classify(text)
    if kind is CredentialFormat.JSON:
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise BakingError(f"the credential is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise BakingError("the credential JSON must be an object")
    return text, kind


def _check_size(data: bytes, max_input_bytes: int) -> None:
    if len(data) > max_input_bytes:
        raise BakingError(f"image is {len(data)} bytes, over the {max_input_bytes}-byte limit")


# ── PNG ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Chunk:
    type: bytes
    start: int  # offset of the length field
    end: int  # offset after the CRC

    def body(self, data: bytes) -> bytes:
        return data[self.start + 8 : self.end - 4]


def _png_chunks(data: bytes) -> list[_Chunk]:
    """Every chunk up to and including IEND, with lengths and CRCs checked."""
    if not data.startswith(_PNG_SIGNATURE):
        raise BakingError("not a PNG image (bad signature)")
    chunks: list[_Chunk] = []
    view = memoryview(data)
    pos = len(_PNG_SIGNATURE)
    while not chunks or chunks[-1].type != b"IEND":
        if pos + 12 > len(data):
            raise BakingError(f"truncated PNG: no complete chunk at byte {pos}")
        length, ctype = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > _PNG_MAX_CHUNK or not ctype.isalpha():
            raise BakingError(f"corrupt PNG: invalid chunk header at byte {pos}")
        if end > len(data):
            raise BakingError(f"truncated PNG: {ctype.decode()} chunk at byte {pos} is cut off")
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[pos + 4 : end - 4]) != crc:
            raise BakingError(f"corrupt PNG: bad CRC in {ctype.decode()} chunk at byte {pos}")
        if not chunks and ctype != b"IHDR":
            raise BakingError("corrupt PNG: the first chunk is not IHDR")
        chunks.append(_Chunk(ctype, pos, end))
        pos = end
    return chunks


def _is_credential_chunk(chunk: _Chunk, data: bytes) -> bool:
    return chunk.type == b"iTXt" and data.startswith(PNG_KEYWORD + b"\0", chunk.start + 8)


def _itxt_chunk(text: str) -> bytes:
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty
    # translated keyword NUL, then the UTF-8 text.
    body = PNG_KEYWORD + b"\0\0\0\0\0" + text.encode("utf-8")
    return (
        struct.pack(">I", len(body))
        + b"iTXt"
        + body
        + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    )


def bake_png(
    png: bytes, credential: str | Mapping[str, Any], *, max_input_bytes: int = MAX_IMAGE_BYTES
) -> bytes:
    """Return *png* carrying *credential* (a JSON document or a compact JWS).

    Any existing ``openbadgecredential`` iTXt chunk is replaced; the new one goes
    just before IEND. Other chunks are copied byte for byte; data after IEND is dropped.
    """
    _check_size(png, max_input_bytes)
    text, _ = _credential_text(credential)
    chunks = _png_chunks(png)
    parts = [_PNG_SIGNATURE]
    parts += [png[c.start : c.end] for c in chunks[:-1] if not _is_credential_chunk(c, png)]
    parts += [_itxt_chunk(text), png[chunks[-1].start : chunks[-1].end]]
    return b"".join(parts)


def _itxt_text(body: bytes, max_text_bytes: int) -> str:
    try:
        _keyword, flags_and_rest = body.split(b"\0", 1)
        compressed, method = flags_and_rest[0], flags_and_rest[1]
        _language, _translated, text = flags_and_rest[2:].split(b"\0", 2)
    except (ValueError, IndexError) as exc:
        raise BakingError("malformed openbadgecredential iTXt chunk") from exc
    if compressed not in (0, 1) or method != 0:
        raise BakingError("unsupported iTXt compression in openbadgecredential chunk")
    if compressed:  # forbidden by §5.3.1, but harmless to read when bounded
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, max_text_bytes + 1)
        except zlib.error as exc:
            raise BakingError(f"corrupt compressed iTXt text: {exc}") from exc
        if len(text) > max_text_bytes:
            raise BakingError(f"compressed iTXt text inflates past {max_text_bytes} bytes")
    if len(text) > max_text_bytes:
        raise BakingError(f"iTXt text is over {max_text_bytes} bytes")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("iTXt text is not UTF-8") from exc


def unbake_png(
    png: bytes,
    *,
    max_input_bytes: int = MAX_IMAGE_BYTES,
    max_text_bytes: int = MAX_CREDENTIAL_BYTES,
) -> BakedCredential | None:
    """Return the credential in the first ``openbadgecredential`` iTXt chunk, or None."""
    _check_size(png, max_input_bytes)
    for chunk in _png_chunks(png):
        if _is_credential_chunk(chunk, png):
            text = _itxt_text(chunk.body(png), max_text_bytes).strip()
            return BakedCredential(text, _classify(text))
    return None


# ── SVG ─────────────────────────────────────────────────────────────────────


@dataclass
class _Element:
    start: int
    end: int = -1
    verify: str | None = None
    text: str = ""


@dataclass
class _SvgScan:
    encoding: str | None = None
    root_qname: str = ""
    root_local: str = ""
    root_start: int = -1
    root_namespaces: dict[str, str] = field(default_factory=dict)
    credentials: list[_Element] = field(default_factory=list)


class _ForbiddenXml(Exception):
    pass


def _forbid(*_args: object) -> NoReturn:
    raise _ForbiddenXml("entity declarations are not allowed in a badge image")


def _split_name(name: str) -> tuple[str, str, str]:
    """(namespace, local name, qualified name) of an expat "uri local prefix" name."""
    parts = name.split(" ")
    if len(parts) == 1:
        return "", name, name
    uri, local = parts[0], parts[1]
    return uri, local, f"{parts[2]}:{local}" if len(parts) == 3 else local


def _scan_svg(data: bytes) -> _SvgScan:
    """Parse *data* once, recording the root tag and the top-level credential elements.

    Expat reports byte offsets, so baking can splice the original bytes instead of
    re-serialising the whole image. Any entity declaration aborts the parse.
    """
    scan = _SvgScan()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.namespace_prefixes = True
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    pending_namespaces: dict[str, str] = {}
    depth = 0
    current: _Element | None = None
    current_depth = 0

    def xml_decl(_version: str, encoding: str | None, _standalone: int) -> None:
        scan.encoding = encoding

    def namespace(prefix: str | None, uri: str) -> None:
        pending_namespaces[prefix or ""] = uri

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, current, current_depth
        depth += 1
        uri, local, qname = _split_name(name)
        if depth == 1:
            scan.root_qname, scan.root_local = qname, local
            scan.root_start = parser.CurrentByteIndex
            scan.root_namespaces = dict(pending_namespaces)
        pending_namespaces.clear()
        if current is None and local == "credential" and uri in _SVG_NAMESPACES_READ:
            current = _Element(parser.CurrentByteIndex, verify=attrs.get("verify"))
            current_depth = depth

    def text(data: str) -> None:
        if current is not None:
            current.text += data

    def end(_name: str) -> None:
        nonlocal depth, current
        if current is not None and depth == current_depth:
            current.end = parser.CurrentByteIndex
            scan.credentials.append(current)
            current = None
        depth -= 1

    parser.XmlDeclHandler = xml_decl
    parser.StartNamespaceDeclHandler = namespace
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _ForbiddenXml as exc:
        raise BakingError(str(exc)) from exc
    except xml.parsers.expat.ExpatError as exc:
        raise BakingError(f"not a well-formed SVG document: {exc}") from exc
    if scan.root_local != "svg":
        raise BakingError("the root element is not <svg>")
    return scan


def unbake_svg(
    svg: bytes,
    *,
    max_input_bytes: int = MAX_IMAGE_BYTES,
    max_text_bytes: int = MAX_CREDENTIAL_BYTES,
) -> BakedCredential | None:
    """Return the credential in the first ``<openbadges:credential>`` element, or None."""
    _check_size(svg, max_input_bytes)
    scan = _scan_svg(svg)
    if not scan.credentials:
        return None
    element = scan.credentials[0]
    text = (element.verify if element.verify is not None else element.text).strip()
    if len(text.encode("utf-8")) > max_text_bytes:
        raise BakingError(f"the baked credential is over {max_text_bytes} bytes")
    return BakedCredential(text, _classify(text))


def _element_end(data: bytes, element: _Element) -> int:
    tag = _START_TAG.match(data, element.start)
    if tag is None:
        raise BakingError("cannot locate the openbadges:credential element")
    if tag.group(1):  # <openbadges:credential .../> ends with its start tag
        return tag.end()
    return data.index(b">", element.end) + 1


def _credential_element(text: str, kind: CredentialFormat) -> bytes:
    tag = f"{SVG_PREFIX}:credential"
    if kind is CredentialFormat.JWS:  # base64url and dots: nothing to escape
        return f'<{tag} verify="{text}"></{tag}>'.encode()
    cdata = text.replace("]]>", "]]]]><![CDATA[>")  # "]]>" may occur inside JSON strings
    return f"<{tag}><![CDATA[{cdata}]]></{tag}>".encode()


def bake_svg(
    svg: bytes, credential: str | Mapping[str, Any], *, max_input_bytes: int = MAX_IMAGE_BYTES
) -> bytes:
    """Return *svg* carrying *credential* (a JSON document or a compact JWS).

    The original bytes are kept; the namespace declaration is added to the root tag if
    missing, existing credential elements are removed, and the new element is inserted
    directly after the ``<svg>`` start tag.
    """
    _check_size(svg, max_input_bytes)
    text, kind = _credential_text(credential)
    if svg.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BakingError("only UTF-8 SVG images can be baked")
    scan = _scan_svg(svg)
    if scan.encoding is not None and scan.encoding.lower() not in ("utf-8", "us-ascii"):
        raise BakingError(f"only UTF-8 SVG images can be baked, not {scan.encoding}")
    bound = scan.root_namespaces.get(SVG_PREFIX)
    if bound is not None and bound != SVG_NAMESPACE:
        raise BakingError(f"the root <svg> binds the '{SVG_PREFIX}' prefix to {bound}")

    root_tag = _START_TAG.match(svg, scan.root_start)
    if root_tag is None:
        raise BakingError("cannot locate the root <svg> tag")
    element = _credential_element(text, kind)
    tag_close = root_tag.start(1) if root_tag.group(1) else root_tag.end() - 1
    declaration = b"" if bound else f' xmlns:{SVG_PREFIX}="{SVG_NAMESPACE}"'.encode()
    if root_tag.group(1):  # <svg .../>: open it up to hold the element
        insert = declaration + b">" + element + f"</{scan.root_qname}>".encode()
        edits = [(tag_close, root_tag.end(), insert)]
    else:
        edits = [(tag_close, tag_close, declaration), (root_tag.end(), root_tag.end(), element)]
    edits += [(c.start, _element_end(svg, c), b"") for c in scan.credentials]

    out = svg
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + replacement + out[end:]
    return out


# ── either ──────────────────────────────────────────────────────────────────


def _is_png(image: bytes) -> bool:
    return image.startswith(_PNG_SIGNATURE)


def bake(
    image: bytes, credential: str | Mapping[str, Any], *, max_input_bytes: int = MAX_IMAGE_BYTES
) -> bytes:
    """Bake into a PNG or an SVG, chosen by the PNG signature."""
    baker = bake_png if _is_png(image) else bake_svg
    return baker(image, credential, max_input_bytes=max_input_bytes)


def unbake(
    image: bytes,
    *,
    max_input_bytes: int = MAX_IMAGE_BYTES,
    max_text_bytes: int = MAX_CREDENTIAL_BYTES,
) -> BakedCredential | None:
    """Extract from a PNG or an SVG, chosen by the PNG signature."""
    reader = unbake_png if _is_png(image) else unbake_svg
    return reader(image, max_input_bytes=max_input_bytes, max_text_bytes=max_text_bytes)
