"""The EDC credential page: a real PNG, one per language, robust to long texts and no fonts."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from badges.europass import render as edc_render
from badges.europass.render import HEIGHT, WIDTH, CredentialPage, render_page

PAGE = CredentialPage(
    title="High-voltage safety for battery electric vehicles",
    learner="Ana Andromeda",
    issuer="Volt Academy GmbH",
    awarded_on="2025-01-10",
    credential_id="urn:credential:0b6b4b8e-0000-4000-8000-000000000001",
    eqf_level=4,
    ects=2,
    workload_hours=50,
    mode="Blended",
    assessment="practical assessment",
    grade="Pass",
    outcomes=["De-energise a high-voltage system safely", "Measure insulation resistance"],
)


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_page_is_an_a4_png() -> None:
    data = render_page(PAGE)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = _image(data)
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    # Not blank: the header band and text put many colours on the page.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 4


def test_each_language_gets_its_own_labels() -> None:
    english, german = render_page(PAGE, "en"), render_page(PAGE, "de")
    assert english != german
    # An unsupported language falls back to the English labels.
    assert render_page(PAGE, "xx") == english


def test_long_texts_and_many_outcomes_stay_on_the_page() -> None:
    crowded = CredentialPage(
        **{**PAGE.__dict__, "title": "Very long title " * 30, "learner": "N" * 300,
           "outcomes": ["An outcome that wraps over more than one line of the page " * 3] * 40},
    )  # fmt: skip
    image = _image(render_page(crowded))
    assert image.size == (WIDTH, HEIGHT)


def test_renders_without_system_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edc_render, "_FONT_DIRS", ())
    edc_render._font.cache_clear()
    try:
        assert _image(render_page(PAGE)).size == (WIDTH, HEIGHT)
    finally:
        edc_render._font.cache_clear()
