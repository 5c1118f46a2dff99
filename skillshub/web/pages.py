"""Jinja2 templates shared by the public pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")

# autoescape is on for .html: credential content is attacker-controlled and must render as text.
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
