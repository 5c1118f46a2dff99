"""Badge images: providers' uploads (validated), generated defaults, and baked credentials.

An upload is untrusted: a PNG is checked for its real format and its dimensions before any
pixel is decoded (a small file can inflate to gigabytes), then decoded and re-encoded, which
also drops metadata chunks; an SVG is parsed without entities, DOCTYPE or processing
instructions and must keep to an allow-list of drawing elements and attributes that can run
no script and load nothing from elsewhere.
Remote images (a micro-credential's `badge_image_url`) are never fetched at bake time.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import struct
import textwrap
import warnings
import xml.parsers.expat
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal, NoReturn
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session, select

from badges import baking
from badges.issuing import awarded_micro_credential
from badges.models import BadgeImage, IssuedCredential, Issuer
from catalogue.base import pk
from catalogue.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from catalogue.models import MicroCredential

PNG = "image/png"
SVG = "image/svg+xml"
MEDIA_TYPES = (PNG, SVG)
MAX_UPLOAD_BYTES = 1024 * 1024
MAX_SIDE = 4096
# Far below Pillow's own MAX_IMAGE_PIXELS (~89 M): a badge needs no more than 16 M pixels.
MAX_PIXELS = 16 * 1024 * 1024
MAX_SVG_ELEMENTS = 20_000
MAX_SVG_DEPTH = 64
SVG_NS = "http://www.w3.org/2000/svg"
Kind = Literal["png", "svg"]

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
_BRAND = "#1d4ed8"
_INK = "#0f172a"
_MUTED = "#475569"


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class ImageRejected(InvalidInput):
    code = "invalid_image"


def _reject(message: str) -> ImageRejected:
    return ImageRejected(message)


# --- PNG uploads -----------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first: nothing decoded yet."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise _reject("not a PNG image")
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise _reject("not a readable PNG image: no IHDR chunk")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _clean_png(data: bytes) -> tuple[bytes, int, int]:
    """The PNG decoded under a pixel budget and re-encoded; (bytes, width, height)."""
    width, height = _png_size(data)
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise _reject(
            f"the image is {width}x{height} pixels; at most {MAX_SIDE} per side "
            f"and {MAX_PIXELS} pixels in all"
        )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard (MAX_IMAGE_PIXELS) as a second line, raised as an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as probe:
                probe.verify()  # chunk CRCs and structure
            with Image.open(io.BytesIO(data), formats=["PNG"]) as opened:
                opened.load()
                image: Image.Image = opened
                if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                    image = image.convert("RGBA")
                out = io.BytesIO()
                image.save(out, "PNG", optimize=True)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise _reject(f"not a readable PNG image: {exc}") from None
    return out.getvalue(), width, height


# --- SVG uploads -----------------------------------------------------------------------------
# An allow-list, not a deny-list: a deny-list missed `<set attributeName="href" to="java&#9;
# script:…">` and CSS escapes such as `u\72l(…)`. Only drawing elements and presentation
# attributes pass; values are judged after the parser has expanded entities, with CSS escapes
# and comments decoded and whitespace and control characters removed. A refused image is
# refused whole (422 with the reason): nothing is rewritten.

XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FILTER_PRIMITIVES = (
    "feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix feDiffuseLighting "
    "feDisplacementMap feDistantLight feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR "
    "feGaussianBlur feMerge feMergeNode feMorphology feOffset fePointLight feSpecularLighting "
    "feSpotLight feTile feTurbulence"
)  # not feImage: it loads a resource
_SVG_ELEMENTS = _words(
    "svg g defs symbol use path rect circle ellipse line polyline polygon text tspan "
    "textPath title desc metadata linearGradient radialGradient stop pattern clipPath mask "
    "marker image style filter " + _FILTER_PRIMITIVES
)
# Editors' bookkeeping (Inkscape, RDF licence metadata): no browser renders, fetches or runs
# anything in these namespaces, so their elements and attributes may stay as they are.
_INERT_NAMESPACES = frozenset(
    {
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://www.inkscape.org/namespaces/inkscape",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://purl.org/dc/elements/1.1/",
        "http://creativecommons.org/ns#",
    }
)
_ATTRIBUTES = _words(
    # core, geometry, text
    "id class lang tabindex role focusable width height viewBox preserveAspectRatio "
    "version baseProfile x y x1 y1 x2 y2 cx cy r rx ry fx fy fr d points pathLength "
    "transform dx dy rotate textLength lengthAdjust startOffset method spacing side path "
    # paint servers, clipping, masking, markers
    "gradientUnits gradientTransform spreadMethod offset patternUnits patternContentUnits "
    "patternTransform clipPathUnits maskUnits maskContentUnits markerWidth markerHeight "
    "markerUnits refX refY orient type media "
    # filter primitives
    "filterUnits primitiveUnits in in2 result stdDeviation mode operator k1 k2 k3 k4 values "
    "tableValues slope intercept amplitude exponent radius scale xChannelSelector "
    "yChannelSelector baseFrequency numOctaves seed stitchTiles order kernelMatrix divisor "
    "bias targetX targetY edgeMode preserveAlpha surfaceScale diffuseConstant "
    "specularConstant specularExponent kernelUnitLength azimuth elevation z pointsAtX "
    "pointsAtY pointsAtZ limitingConeAngle"
)
# CSS values, judged as CSS (not cursor or color-profile: they take external URLs only).
_PRESENTATION = _words(
    "style alignment-baseline baseline-shift clip clip-path clip-rule color "
    "color-interpolation color-interpolation-filters color-rendering direction display "
    "dominant-baseline enable-background fill fill-opacity fill-rule filter flood-color "
    "flood-opacity font "
    "font-family font-size font-size-adjust font-stretch font-style font-variant "
    "font-weight glyph-orientation-horizontal glyph-orientation-vertical image-rendering "
    "isolation kerning letter-spacing lighting-color marker-start marker-mid marker-end mask "
    "mix-blend-mode opacity overflow paint-order pointer-events shape-rendering stop-color "
    "stop-opacity stroke stroke-dasharray stroke-dashoffset stroke-linecap stroke-linejoin "
    "stroke-miterlimit stroke-opacity stroke-width text-anchor text-decoration "
    "text-rendering transform-origin unicode-bidi vector-effect visibility word-spacing "
    "writing-mode"
)
_HREF_ELEMENTS = frozenset(
    {"use", "linearGradient", "radialGradient", "pattern", "textPath", "filter", "image"}
)
# Raster images inline are fine (an <image> never runs script); anything else behind an href
# but a fragment of this document leaves it.
_SAFE_DATA_URI = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]*\Z")
_LOCAL_REF = re.compile(r"#[A-Za-z_][\w.:-]*\Z")
_IGNORED = re.compile(r"[\x00-\x20\x7f]+")  # what browsers skip inside a URL or a scheme
_SCRIPT = re.compile(r"javascript:|vbscript:|livescript:|data:text/|expression\(")
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(\n|\r\n|\r|\f)|(.))", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.S)
_CSS_URL = re.compile(r"url\(([^)]*)\)?")
# CSS functions and rules that load something without url(…), or bind behaviour.
_CSS_LOADS = re.compile(r"image-set\(|image\(|src\(|cross-fade\(|element\(|-moz-binding|behavior:")
_CSS_AT_RULE = re.compile(r"@([a-z-]+)")
_LENGTH = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(?:px)?\s*\Z")


class _Refused(Exception):
    pass


def _css_char(match: re.Match[str]) -> str:
    hex_digits, newline, char = match.groups()
    if newline is not None:
        return ""
    if char is not None:
        return char
    code = int(hex_digits, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def _css_decoded(text: str) -> str:
    """CSS as a browser tokenises it: comments dropped, escapes decoded, lower case."""
    return _CSS_ESCAPE.sub(_css_char, _CSS_COMMENT.sub("", text)).lower()


def _compact(text: str) -> str:
    """Whitespace and control characters removed (URL parsing skips them: `java\tscript:`)."""
    return _IGNORED.sub("", text).lower()


def _check_css(text: str, where: str) -> None:
    decoded = _css_decoded(text)
    css = _compact(decoded)
    if _SCRIPT.search(css):
        raise _Refused(f"{where} holds script")
    for rule in _CSS_AT_RULE.findall(decoded):
        if rule != "media":
            raise _Refused(f"{where} holds an @{rule} rule (only @media is allowed)")
    if _CSS_LOADS.search(css):
        raise _Refused(f"{where} loads an external resource")
    for target in _CSS_URL.findall(css):
        if not _LOCAL_REF.match(target.strip("'\"")):
            raise _Refused(f"{where} refers to an external resource ({target[:60]!r})")


def _check_href(element: str, value: str) -> None:
    target = _IGNORED.sub("", value)
    if _LOCAL_REF.match(target) or (element == "image" and _SAFE_DATA_URI.match(target)):
        return
    raise _Refused(f"<{element}> links to an external resource ({value.strip()[:60]!r})")


def _check_scripting(element: str, attrs: dict[str, str]) -> None:
    """Event handlers and script URLs, named as such whatever else is wrong."""
    for name, value in attrs.items():
        local = name.rpartition(" ")[2]
        if local.lower().startswith("on"):
            raise _Refused(f"<{element}> has an event handler attribute ({local})")
        if local == "href" and _SCRIPT.search(_compact(value)):
            raise _Refused(f"<{element}> href holds script")


def _check_element(uri: str, local: str) -> None:
    if uri in _INERT_NAMESPACES:
        return
    if uri != SVG_NS or local not in _SVG_ELEMENTS:
        shown = local if uri == SVG_NS else f"{local} (namespace {uri!r})" if uri else local
        raise _Refused(
            f"<{shown}> elements are not allowed in a badge image: only drawing elements "
            "(shapes, paths, text, gradients, clip paths, masks, filters) may be used"
        )


def _check_attribute(element: str, name: str, value: str, *, inert: bool) -> None:
    uri, _, local = name.rpartition(" ")
    shown = {XLINK_NS: "xlink:", XML_NS: "xml:"}.get(uri, "") + local
    if inert or uri in _INERT_NAMESPACES:
        return
    if local == "href" and uri in ("", XLINK_NS):
        if element not in _HREF_ELEMENTS:
            raise _Refused(f"<{element}> may not link anywhere (href)")
        _check_href(element, value)
    elif uri == "" and local in _PRESENTATION:
        # Presentation attributes are CSS values: fill="u\72l(…)" is a url(…) to a browser.
        _check_css(value, f"<{element} {local}>")
    elif not (
        (uri == "" and (local in _ATTRIBUTES or local.startswith(("aria-", "data-"))))
        or (uri == XML_NS and local in ("space", "lang"))
        or (uri == XLINK_NS and local == "title")
    ):
        raise _Refused(f"the attribute {shown!r} on <{element}> is not allowed in a badge image")
    if local == "type" and element == "style" and value.strip().lower() not in ("", "text/css"):
        raise _Refused(f"<style type={value.strip()[:40]!r}> is not CSS")


def _length(value: str | None) -> int | None:
    match = _LENGTH.match(value or "")
    return round(float(match.group(1))) if match else None


def _check_svg(data: bytes) -> tuple[int | None, int | None]:
    """Refuse an SVG that is not well-formed, safe and self-contained; its (width, height)."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    state = {"depth": 0, "elements": 0}
    size: list[int | None] = [None, None]
    style_text: list[str] = []

    def refuse(*_args: object) -> NoReturn:
        raise _Refused("DOCTYPE, entities and processing instructions are not allowed")

    def start(name: str, attrs: dict[str, str]) -> None:
        uri, _, local = name.rpartition(" ")
        state["depth"] += 1
        state["elements"] += 1
        if state["depth"] > MAX_SVG_DEPTH or state["elements"] > MAX_SVG_ELEMENTS:
            raise _Refused("the SVG is nested too deeply or has too many elements")
        if state["elements"] == 1:
            if (uri, local) != (SVG_NS, "svg"):
                raise _Refused("the root element is not an SVG <svg>")
            view_box = (attrs.get("viewBox") or "").replace(",", " ").split()
            size[0] = _length(attrs.get("width")) or (
                _length(view_box[2]) if len(view_box) == 4 else None
            )
            size[1] = _length(attrs.get("height")) or (
                _length(view_box[3]) if len(view_box) == 4 else None
            )
        _check_scripting(local, attrs)
        _check_element(uri, local)
        for attribute, value in attrs.items():
            _check_attribute(local, attribute, value, inert=uri in _INERT_NAMESPACES)
        if (uri, local) == (SVG_NS, "style"):
            style_text.append("")

    def text(chunk: str) -> None:
        if style_text:
            style_text[-1] += chunk

    def end(name: str) -> None:
        state["depth"] -= 1
        if name == f"{SVG_NS} style" and style_text:
            _check_css(style_text.pop(), "<style>")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.ProcessingInstructionHandler = refuse
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise _reject(f"refused SVG: {exc}") from None
    except xml.parsers.expat.ExpatError as exc:
        raise _reject(f"not a well-formed SVG document: {exc}") from None
    return size[0], size[1]


def _clean_svg(data: bytes) -> tuple[bytes, int | None, int | None]:
    width, height = _check_svg(data)
    try:  # the badge must take a credential later: UTF-8, no foreign `openbadges` prefix
        baking.bake_svg(data, {"probe": True})
    except baking.BakingError as exc:
        raise _reject(f"this SVG cannot carry a credential: {exc}") from None
    return data, width, height


# --- stored uploads --------------------------------------------------------------------------


def sniff(data: bytes) -> str | None:
    """PNG by signature, SVG by an <svg root near the start; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and re.search(rb"<(?:[A-Za-z_][\w.-]*:)?svg[\s>/]", head):
        return SVG
    return None


@dataclass(frozen=True)
class CleanImage:
    """An upload that passed every check, ready to store."""

    media_type: str
    data: bytes
    width: int | None
    height: int | None


def clean_upload(data: bytes, content_type: str | None) -> CleanImage:
    """Check an upload (size, declared and real type, pixels or SVG allow-list) without
    storing anything; the error says what is wrong."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the image is {len(data)} bytes; at most {MAX_UPLOAD_BYTES}")
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared not in MEDIA_TYPES:
        raise UnsupportedMediaType(f"send {PNG} or {SVG}, not {declared or 'no Content-Type'!r}")
    actual = sniff(data)
    if actual != declared:
        raise _reject(f"the body is not {'a PNG' if declared == PNG else 'an SVG'} image")
    width: int | None
    height: int | None
    if actual == PNG:
        clean, width, height = _clean_png(data)
        return CleanImage(PNG, clean, width, height)
    svg, svg_width, svg_height = _clean_svg(data)
    return CleanImage(SVG, svg, svg_width, svg_height)


def store_image(
    session: Session,
    mc: MicroCredential,
    data: bytes | CleanImage,
    content_type: str | None = None,
    *,
    base_url: str,
) -> BadgeImage:
    """Validate and store (or replace) a micro-credential's badge image.

    Nothing is written unless the image passes. A micro-credential without an image URL of
    its own gets the URL the upload is served at, so new credentials carry it.
    """
    clean = data if isinstance(data, CleanImage) else clean_upload(data, content_type)
    image = session.exec(
        select(BadgeImage).where(BadgeImage.micro_credential_id == mc.id)
    ).first() or BadgeImage(
        micro_credential_id=pk(mc), media_type=clean.media_type, data=b"", sha256=""
    )
    image.media_type = clean.media_type
    image.data = clean.data
    image.sha256 = hashlib.sha256(clean.data).hexdigest()
    image.width, image.height = clean.width, clean.height
    image.updated_at = datetime.now(UTC)
    session.add(image)
    served_at = image_url(base_url, mc.slug)
    if not mc.badge_image_url:
        mc.badge_image_url = served_at
        session.add(mc)
    session.flush()
    return image


def image_url(base_url: str, slug: str) -> str:
    return f"{base_url}/micro-credentials/{slug}/image"


def get_image(session: Session, mc: MicroCredential) -> BadgeImage | None:
    return session.exec(select(BadgeImage).where(BadgeImage.micro_credential_id == mc.id)).first()


def delete_image(session: Session, mc: MicroCredential, *, base_url: str) -> bool:
    image = get_image(session, mc)
    if image is None:
        return False
    session.delete(image)
    if mc.badge_image_url == image_url(base_url, mc.slug):
        mc.badge_image_url = None
        session.add(mc)
    session.flush()
    return True


# --- generated defaults ----------------------------------------------------------------------


def _font(size: int, *, bold: bool) -> Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _fit(
    draw: ImageDraw.ImageDraw, text: str, sizes: tuple[int, ...], width: int, max_lines: int
) -> tuple[Font, int, list[str]]:
    """The largest font size at which the text fits; at the smallest, the text is cut."""
    for size in sizes:
        font = _font(size, bold=True)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= max_lines and all(draw.textlength(s, font=font) <= width for s in lines):
            return font, size, lines
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".,;:") + "…"
    return font, size, lines


@lru_cache(maxsize=64)
def default_png(title: str, issuer_name: str, size: int = 600) -> bytes:
    """A clean round badge with the title and the issuer's name (Pillow)."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    pad = size // 30
    draw.ellipse((pad, pad, size - pad, size - pad), fill=_BRAND)
    ring = size // 14
    draw.ellipse((pad + ring, pad + ring, size - pad - ring, size - pad - ring), fill="white")
    label = _font(size // 30, bold=True)
    draw.text((size / 2, size * 0.25), "MICRO-CREDENTIAL", font=label, fill=_BRAND, anchor="mm")
    sizes = (size // 13, size // 16, size // 20, size // 24)
    font, font_size, lines = _fit(draw, title, sizes, int(size * 0.62), 4)
    step = font_size * 1.2
    top = size * 0.5 - step * (len(lines) - 1) / 2
    for number, line in enumerate(lines):
        draw.text((size / 2, top + number * step), line, font=font, fill=_INK, anchor="mm")
    small = _font(size // 28, bold=False)
    issuer_lines = _wrap(draw, issuer_name, small, int(size * 0.6))[:2]
    for number, line in enumerate(issuer_lines):
        y = size * 0.75 + number * size / 24
        draw.text((size / 2, y), line, font=small, fill=_MUTED, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def default_svg(title: str, issuer_name: str) -> bytes:
    """The same badge drawn by hand in SVG; text is escaped, lines wrapped by length."""
    title_lines = textwrap.wrap(title, 18, max_lines=4, placeholder="…") or [""]
    issuer_lines = textwrap.wrap(issuer_name, 30, max_lines=2, placeholder="…")
    font_size = 46 if len(title_lines) <= 2 else 38
    step = font_size * 1.2
    top = 300 - step * (len(title_lines) - 1) / 2
    title_text = "".join(
        f'<tspan x="300" y="{top + i * step:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(title_lines)
    )
    issuer_text = "".join(
        f'<tspan x="300" y="{450 + i * 25}">{escape(line)}</tspan>'
        for i, line in enumerate(issuer_lines)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600" '
        f'viewBox="0 0 600 600" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        '<rect width="600" height="600" fill="#fff"/>'
        f'<circle cx="300" cy="300" r="280" fill="{_BRAND}"/>'
        '<circle cx="300" cy="300" r="237" fill="#fff"/>'
        '<g font-family="DejaVu Sans, Verdana, Arial, sans-serif" text-anchor="middle" '
        'dominant-baseline="middle">'
        f'<text x="300" y="150" font-size="20" font-weight="bold" fill="{_BRAND}" '
        'letter-spacing="2">MICRO-CREDENTIAL</text>'
        f'<text font-size="{font_size}" font-weight="bold" fill="{_INK}">{title_text}</text>'
        f'<text font-size="21" fill="{_MUTED}">{issuer_text}</text>'
        "</g></svg>\n"
    ).encode()


def _png_in_svg(png: bytes, width: int | None, height: int | None) -> bytes:
    """An uploaded PNG as an SVG badge (the PNG inline), for `badge.svg`."""
    w, h = width or 600, height or 600
    encoded = base64.b64encode(png).decode()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}"><image width="{w}" height="{h}" '
        f'href="data:image/png;base64,{encoded}"/></svg>\n'
    ).encode()


# --- the image a credential is baked into ----------------------------------------------------


def badge_image(session: Session, mc: MicroCredential, issuer: Issuer, kind: Kind) -> bytes:
    """The micro-credential's image as PNG or SVG: the upload when it has that form (a PNG
    upload also serves as SVG, inline), else the generated default."""
    upload = get_image(session, mc)
    if kind == "png":
        if upload is not None and upload.media_type == PNG:
            return upload.data
        return default_png(mc.title, issuer.name)
    if upload is not None and upload.media_type == SVG:
        return upload.data
    if upload is not None:
        return _png_in_svg(upload.data, upload.width, upload.height)
    return default_svg(mc.title, issuer.name)


def baked(session: Session, record: IssuedCredential, kind: Kind) -> bytes:
    """The badge image carrying the stored credential verbatim (JSON or the compact JWS)."""
    mc = awarded_micro_credential(session, record)
    issuer = session.get(Issuer, record.issuer_id)
    assert issuer is not None  # foreign key
    if mc is not None:
        image = badge_image(session, mc, issuer, kind)
    else:  # a VC-API credential awarding none of our micro-credentials: the default image
        title = _credential_name(record)
        draw = default_png if kind == "png" else default_svg
        image = draw(title, issuer.name)
    if kind == "png":
        return baking.bake_png(image, record.signed)
    return baking.bake_svg(image, record.signed)


def _credential_name(record: IssuedCredential) -> str:
    claims = json.loads(record.signed) if record.format == "ldp" else {}
    name = claims.get("name") if isinstance(claims, dict) else None
    return name if isinstance(name, str) and name.strip() else "Credential"
