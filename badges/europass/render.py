"""The credential page every EDC must carry (`displayParameter`): a PNG rendered with Pillow.

One A4-proportioned page per language. Field labels are translated for the languages below
(English otherwise); the credential's own texts appear as the provider wrote them.
DejaVu Sans is used when installed (Debian `fonts-dejavu-core`), else Pillow's own font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 992, 1403  # A4 at 120 dpi
MARGIN = 72
INK = (30, 35, 45)
MUTED = (95, 105, 120)
ACCENT = (0, 51, 153)  # EU blue
RULE = (210, 216, 226)
FACT_ROW = 96  # label and up to two lines of value

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "kind": "Micro-credential",
        "awarded_to": "This certifies that",
        "completed": "has successfully completed",
        "issued_by": "Awarded by",
        "on": "on",
        "level": "EQF level",
        "credits": "ECTS credits",
        "workload": "Workload",
        "mode": "Form of participation",
        "assessment": "Assessment",
        "grade": "Grade",
        "outcomes": "Learning outcomes",
        "more": "and {n} more",
        "id": "Credential",
        "valid_until": "Valid until",
        "hours": "hours",
    },
    "de": {
        "kind": "Microcredential",
        "awarded_to": "Hiermit wird bescheinigt, dass",
        "completed": "erfolgreich abgeschlossen hat",
        "issued_by": "Verliehen von",
        "on": "am",
        "level": "EQR-Niveau",
        "credits": "ECTS-Punkte",
        "workload": "Arbeitsaufwand",
        "mode": "Form der Teilnahme",
        "assessment": "Prüfung",
        "grade": "Note",
        "outcomes": "Lernergebnisse",
        "more": "und {n} weitere",
        "id": "Nachweis",
        "valid_until": "Gültig bis",
        "hours": "Stunden",
    },
    "fr": {
        "kind": "Micro-certification",
        "awarded_to": "Il est certifié que",
        "completed": "a suivi avec succès",
        "issued_by": "Délivré par",
        "on": "le",
        "level": "Niveau CEC",
        "credits": "Crédits ECTS",
        "workload": "Charge de travail",
        "mode": "Forme de participation",
        "assessment": "Évaluation",
        "grade": "Note",
        "outcomes": "Acquis d'apprentissage",
        "more": "et {n} de plus",
        "id": "Titre",
        "valid_until": "Valable jusqu'au",
        "hours": "heures",
    },
    "es": {
        "kind": "Microcredencial",
        "awarded_to": "Se certifica que",
        "completed": "ha completado con éxito",
        "issued_by": "Otorgado por",
        "on": "el",
        "level": "Nivel MEC",
        "credits": "Créditos ECTS",
        "workload": "Carga de trabajo",
        "mode": "Forma de participación",
        "assessment": "Evaluación",
        "grade": "Calificación",
        "outcomes": "Resultados de aprendizaje",
        "more": "y {n} más",
        "id": "Credencial",
        "valid_until": "Válido hasta",
        "hours": "horas",
    },
    "it": {
        "kind": "Microcredenziale",
        "awarded_to": "Si certifica che",
        "completed": "ha completato con successo",
        "issued_by": "Rilasciato da",
        "on": "il",
        "level": "Livello EQF",
        "credits": "Crediti ECTS",
        "workload": "Carico di lavoro",
        "mode": "Forma di partecipazione",
        "assessment": "Valutazione",
        "grade": "Voto",
        "outcomes": "Risultati dell'apprendimento",
        "more": "e altri {n}",
        "id": "Credenziale",
        "valid_until": "Valido fino al",
        "hours": "ore",
    },
}


@dataclass(frozen=True)
class CredentialPage:
    """What the page shows; texts as they appear in the credential."""

    title: str
    learner: str
    issuer: str
    awarded_on: str
    credential_id: str
    eqf_level: int | None = None
    ects: float | None = None
    workload_hours: float | None = None
    mode: str | None = None
    assessment: str | None = None
    grade: str | None = None
    valid_until: str | None = None
    outcomes: list[str] = field(default_factory=list)


def labels_for(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def render_page(page: CredentialPage, language: str = "en") -> bytes:
    """The page as PNG bytes."""
    text = labels_for(language)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    width = WIDTH - 2 * MARGIN

    draw.rectangle((0, 0, WIDTH, 150), fill=ACCENT)
    draw.text((MARGIN, 48), text["kind"].upper(), font=_font(22, bold=True), fill="white")
    draw.text((MARGIN, 84), _fit(page.issuer, _font(26), width), font=_font(26), fill="white")

    y = 210
    y = _paragraph(draw, text["awarded_to"], _font(22), MUTED, y, width)
    y = _paragraph(draw, page.learner, _font(44, bold=True), INK, y + 6, width, max_lines=2)
    y = _paragraph(draw, text["completed"], _font(22), MUTED, y + 10, width)
    y = _paragraph(draw, page.title, _font(36, bold=True), ACCENT, y + 6, width, max_lines=3)
    awarded = f"{text['issued_by']} {page.issuer} {text['on']} {page.awarded_on}"
    y = _paragraph(draw, awarded, _font(20), INK, y + 14, width, max_lines=2)

    y += 24
    facts = _facts(page, text)
    if facts:
        draw.line((MARGIN, y, WIDTH - MARGIN, y), fill=RULE, width=2)
        y += 22
        column = width // 3
        value_font = _font(22, bold=True)
        for index, (label, value) in enumerate(facts):
            x = MARGIN + (index % 3) * column
            row_y = y + (index // 3) * FACT_ROW
            draw.text((x, row_y), label, font=_font(17), fill=MUTED)
            lines = _wrap(value, value_font, column - 16)
            if len(lines) > 2:
                lines = [lines[0], _fit(" ".join(lines[1:]), value_font, column - 16)]
            for line_index, line in enumerate(lines):
                draw.text((x, row_y + 26 + line_index * 28), line, font=value_font, fill=INK)
        y += ((len(facts) + 2) // 3) * FACT_ROW + 8
        draw.line((MARGIN, y, WIDTH - MARGIN, y), fill=RULE, width=2)
        y += 28

    footer_top = HEIGHT - 120
    if page.outcomes:
        draw.text((MARGIN, y), text["outcomes"], font=_font(24, bold=True), fill=INK)
        y += 44
        y = _outcomes(draw, page.outcomes, text, y, width, footer_top - 20)

    draw.line((MARGIN, footer_top, WIDTH - MARGIN, footer_top), fill=RULE, width=2)
    footer = f"{text['id']}: {page.credential_id}"
    draw.text((MARGIN, footer_top + 22), _fit(footer, _font(16), width), font=_font(16), fill=MUTED)
    draw.text(
        (MARGIN, footer_top + 50), "European Digital Credential for Learning",
        font=_font(16), fill=MUTED,
    )  # fmt: skip

    buffer = io.BytesIO()
    image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _facts(page: CredentialPage, text: dict[str, str]) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if page.eqf_level is not None:
        facts.append((text["level"], str(page.eqf_level)))
    if page.ects is not None:
        facts.append((text["credits"], _number(page.ects)))
    if page.workload_hours is not None:
        facts.append((text["workload"], f"{_number(page.workload_hours)} {text['hours']}"))
    if page.mode:
        facts.append((text["mode"], page.mode))
    if page.assessment:
        facts.append((text["assessment"], page.assessment))
    if page.grade:
        facts.append((text["grade"], page.grade))
    if page.valid_until:
        facts.append((text["valid_until"], page.valid_until))
    return facts


def _outcomes(
    draw: ImageDraw.ImageDraw,
    outcomes: list[str],
    text: dict[str, str],
    y: int,
    width: int,
    bottom: int,
) -> int:
    font = _font(20)
    line_height = _line_height(font)
    for index, outcome in enumerate(outcomes):
        lines = _wrap(outcome, font, width - 28)[:3]
        # Keep room for the "and N more" line when outcomes remain.
        reserve = line_height if index < len(outcomes) - 1 else 0
        if y + len(lines) * line_height + reserve > bottom:
            more = text["more"].format(n=len(outcomes) - index)
            draw.text((MARGIN + 28, y), f"… {more}", font=font, fill=MUTED)
            return y + line_height
        draw.ellipse((MARGIN + 4, y + 9, MARGIN + 14, y + 19), fill=ACCENT)
        for line in lines:
            draw.text((MARGIN + 28, y), line, font=font, fill=INK)
            y += line_height
        y += 10
    return y


def _paragraph(
    draw: ImageDraw.ImageDraw,
    content: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    colour: tuple[int, int, int],
    y: int,
    width: int,
    max_lines: int = 4,
) -> int:
    lines = _wrap(content, font, width)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _fit(" ".join(lines[max_lines - 1 :]), font, width)]
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=colour)
        y += _line_height(font)
    return y


def _wrap(
    content: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in content.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word if font.getlength(word) <= width else _fit(word, font, width)
    if current:
        lines.append(current)
    return lines or [""]


def _fit(content: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int) -> str:
    """The text, shortened with an ellipsis until it fits the width."""
    if font.getlength(content) <= width:
        return content
    while content and font.getlength(content + "…") > width:
        content = content[:-1]
    return content.rstrip() + "…"


def _line_height(font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> int:
    top, bottom = font.getbbox("Ág")[1::2]
    return int((bottom - top) * 1.45) + 2


def _number(value: float) -> str:
    return f"{value:g}"


@cache
def _font(size: int, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for directory in _FONT_DIRS:
        path = directory / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)
