"""The SVG upload allow-list against known SVG XSS and exfiltration vectors (no database).

Each vector is refused whole with a reason; a real badge SVG (gradients, text, paths, clip
paths, masks, filters, editor metadata) passes unchanged."""

from __future__ import annotations

import pytest

from badges.sharing import images

OPEN = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="100" height="100">'
)


def _svg(body: str, root: str = OPEN) -> bytes:
    return f"{root}{body}</svg>".encode()


VECTORS = {
    # the review's payloads: animation rewriting a link with an entity-hidden tab, CSS escapes
    "set-href-tab-entity": '<a><set attributeName="href" to="java&#9;script:alert(1)"/>'
    '<rect width="9" height="9"/></a>',
    "set-alone": '<set attributeName="fill" to="red"/>',
    "css-escaped-url": '<rect style="background:u\\72l(https://evil.example/x)"/>',
    "css-escaped-import": "<style>@\\69mport url(https://evil.example/a.css);</style>",
    "css-six-digit-escape": '<rect style="fill:u\\000072l(https://evil.example/x)"/>',
    "css-escaped-url-in-fill": '<rect fill="u\\rl(https://evil.example/x)"/>',
    "entity-encoded-url": '<rect fill="&#x75;rl(https://evil.example/x)"/>',
    "css-comment-split": '<rect style="fill:url/**/(https://evil.example/x)"/>',
    "css-entity-quotes": '<rect style="fill:url(&quot;https://evil.example&quot;)"/>',
    # script in links, hidden with entities, whitespace, case
    "xlink-href-tab": '<use xlink:href="java&#x09;script:alert(1)"/>',
    "href-newline": '<use href="jav&#10;ascript:alert(1)"/>',
    "href-leading-space": '<use href="&#x20;javascript:alert(1)"/>',
    "href-mixed-case": '<use href="JaVaScRiPt:alert(1)"/>',
    "a-href-javascript": '<a href="javascript:alert(1)"><rect width="9" height="9"/></a>',
    "a-local-link": '<a xlink:href="#x"><rect width="9" height="9"/></a>',
    "a-data-html": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">'
    "<rect/></a>",
    "vbscript": '<use href="vbscript:msgbox(1)"/>',
    # animation elements
    "animate-href": '<animate attributeName="href" values="javascript:alert(1)"/>',
    "animate-transform": '<animateTransform attributeName="transform" type="rotate"/>',
    "animate-motion": '<animateMotion dur="1s"><mpath xlink:href="#p"/></animateMotion>',
    # foreign content and script
    "foreign-object": '<foreignObject><body xmlns="http://www.w3.org/1999/xhtml">'
    "<script>alert(1)</script></body></foreignObject>",
    "script": "<script>alert(1)</script>",
    "script-src": '<script xlink:href="https://evil.example/x.js"/>',
    "xhtml-script": '<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>',
    "xhtml-iframe": '<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/>',
    "no-namespace": '<rect xmlns=""/>',
    "style-ecmascript": '<style type="text/ecmascript">alert(1)</style>',
    # event handlers
    "onload-root": "",  # on the root, see the test
    "onclick-upper": '<rect ONCLICK="alert(1)"/>',
    "onbegin": '<rect onbegin="alert(1)"/>',
    # external references
    "image-https": '<image href="https://evil.example/p.png"/>',
    "image-protocol-relative": '<image href="//evil.example/p.png"/>',
    "image-svg-data": '<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/>',
    "image-html-data": '<image href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"/>',
    "use-external": '<use href="https://evil.example/sprite.svg#icon"/>',
    "use-data": '<use href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=#x"/>',
    "fe-image": '<filter id="f"><feImage href="https://evil.example/x.png"/></filter>',
    "fill-external-url": '<rect fill="url(https://evil.example/#g)"/>',
    "style-url-spaces": "<rect style=\"background:url( 'https://evil.example' )\"/>",
    "style-cdata": "<style><![CDATA[rect{fill:url(https://evil.example/x)}]]></style>",
    "font-face": "<style>@font-face{font-family:x;src:url(https://evil.example/f.woff)}</style>",
    "image-set": "<rect style=\"background-image:image-set('https://evil.example/x.png' 1x)\"/>",
    "cursor-style": '<rect style="cursor:url(https://evil.example/c.cur),auto"/>',
    "cursor-attribute": '<rect cursor="url(https://evil.example/c.cur)"/>',
    "behavior": '<rect style="behavior:url(x.htc)"/>',
    "expression": '<rect style="width:expression(alert(1))"/>',
    "xml-base": '<rect xml:base="https://evil.example/"/>',
    "cursor-element": '<cursor xlink:href="https://evil.example/c.png"/>',
}


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_known_vectors_are_refused(name: str) -> None:
    data = (
        _svg("", root=OPEN.replace("<svg ", '<svg onload="alert(1)" '))
        if name == "onload-root"
        else _svg(VECTORS[name])
    )
    with pytest.raises(images.ImageRejected, match=r"^refused SVG: "):
        images._check_svg(data)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('<a><set attributeName="href" to="java&#9;script:alert(1)"/></a>', "<a> elements"),
        ('<set attributeName="href" to="x"/>', "<set> elements are not allowed"),
        ('<use href="java&#9;script:alert(1)"/>', "href holds script"),
        ('<rect style="fill:u\\72l(https://evil.example/x)"/>', "external resource"),
        ("<style>@\\69mport 'https://evil.example/a.css';</style>", "@import"),
        ('<rect cursor="x"/>', "attribute 'cursor' on <rect> is not allowed"),
    ],
)
def test_refusals_say_what_is_wrong(body: str, says: str) -> None:
    with pytest.raises(images.ImageRejected, match=r"^refused SVG: ") as refused:
        images._check_svg(_svg(body))
    assert says in str(refused.value)


NORMAL_BADGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
     xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
     xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"
     width="400" height="400" viewBox="0 0 400 400" role="img"
     aria-label="JavaScript: the basics, from info@academy.example">
  <title>JavaScript: the basics</title>
  <desc>A badge &amp; its ribbon</desc>
  <metadata><rdf:RDF><cc:Work rdf:about=""><dc:format>image/svg+xml</dc:format>
    <cc:license rdf:resource="http://creativecommons.org/licenses/by/4.0/"/></cc:Work>
  </rdf:RDF></metadata>
  <sodipodi:namedview id="view" inkscape:zoom="1.5" pagecolor="#ffffff"/>
  <defs>
    <linearGradient id="ring" x1="0" y1="0" x2="1" y2="1" gradientUnits="objectBoundingBox">
      <stop offset="0" stop-color="#1d4ed8"/><stop offset="1" style="stop-color:#0f172a"/>
    </linearGradient>
    <radialGradient id="glow" xlink:href="#ring" cx="0.5" cy="0.5" r="0.5"/>
    <clipPath id="round"><circle cx="200" cy="200" r="180"/></clipPath>
    <mask id="fade"><rect width="400" height="400" fill="url(#glow)"/></mask>
    <filter id="shadow" x="-10%" y="-10%" width="120%" height="120%">
      <feGaussianBlur in="SourceAlpha" stdDeviation="4" result="blur"/>
      <feOffset in="blur" dx="2" dy="3" result="off"/>
      <feMerge><feMergeNode in="off"/><feMergeNode in="SourceGraphic"/></feMerge>
    </filter>
    <path id="arc" d="M 80 220 A 120 120 0 0 1 320 220"/>
    <style type="text/css"><![CDATA[
      .ring { fill: url(#ring); stroke: url("#glow"); }
      @media (prefers-contrast: more) { .ring { stroke: black } }
      text { font-family: "DejaVu Sans", Verdana, sans-serif; }
    ]]></style>
  </defs>
  <g clip-path="url(#round)" filter="url(#shadow)" inkscape:label="Layer 1"
     inkscape:groupmode="layer">
    <circle class="ring" cx="200" cy="200" r="180" stroke-width="8"/>
    <ellipse cx="200" cy="200" rx="150" ry="140" fill="#fff" mask="url(#fade)"/>
    <polygon points="200,60 230,150 320,150 250,200 280,290 200,235 120,290 150,200"
             fill="#fbbf24" fill-rule="evenodd"/>
    <polyline points="90,320 200,360 310,320" fill="none" stroke="#1d4ed8"/>
    <line x1="100" y1="330" x2="300" y2="330" stroke="#64748b" stroke-dasharray="4 2"/>
    <rect x="120" y="300" width="160" height="40" rx="8" style="fill:#1d4ed8;opacity:.9"/>
    <path d="M150 320 l20 10 l40 -25" stroke="#fff" stroke-linecap="round" fill="none"/>
    <text x="200" y="325" text-anchor="middle" font-size="18" fill="#fff" xml:space="preserve"
      >Badge <tspan font-weight="bold">&#8220;JS&#8221;</tspan></text>
    <text font-size="14"><textPath xlink:href="#arc" startOffset="50%">Volt Academy</textPath>
    </text>
    <use xlink:href="#arc" stroke="#fff" fill="none"/>
    <image width="10" height="10" href="data:image/png;base64,iVBORw0KGgo="/>
  </g>
</svg>
"""


def test_a_normal_badge_passes() -> None:
    assert images._check_svg(NORMAL_BADGE) == (400, 400)
