"""Jinja2 templates shared by the public pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from skillshub.web import i18n, words
from skillshub.web.csrf import csrf_field

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")

# autoescape is on for .html: credential content is attacker-controlled and must render as text.
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


@pass_context
def _url_for(context: Any, name: str, /, **path_params: Any) -> str:
    """A root-relative URL. Starlette's own url_for is absolute, built on the request's Host
    header, which the client chooses: a page must never point its stylesheets there."""
    request = context["request"]
    path = request.app.url_path_for(name, **path_params)
    return f"{request.scope.get('root_path', '').rstrip('/')}{path}"


templates.env.globals["url_for"] = _url_for
templates.env.globals["csrf_field"] = csrf_field  # in every form a CsrfDep route receives
i18n.install(templates.env)  # {% trans %}, _(), dates and numbers in the reader's language
words.install(templates.env)  # Python-set words and vocabulary labels, translated
