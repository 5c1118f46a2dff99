"""/docs (Swagger UI) and /redoc without a CDN: their JavaScript and CSS come from the
`fastapi-offline` package and are served from DOCS_ASSETS, so the pages work offline.

FastAPI's defaults load them from jsDelivr, which leaves /docs blank on an air-gapped host.
Content-Security-Policy these two pages need (security_headers.DOCS_CSP): `script-src 'self'`
plus the hashes of the inline <script>s that start Swagger UI and the OAuth2 redirect page
(computed from each answer, so no 'unsafe-inline'), `style-src 'self'
'unsafe-inline'` (both UIs set style attributes), `img-src 'self' data:` (inline SVG icons),
`worker-src blob:` (ReDoc's search runs in a blob: worker) and `connect-src 'self'` (they fetch
/openapi.json). Nothing from another origin.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS = "/docs-assets"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
_REDIRECT = "/docs/oauth2-redirect"


def page_paths(app: FastAPI) -> frozenset[str]:
    """The docs' HTML pages (they run under security_headers.DOCS_CSP, not the page policy)."""
    return frozenset({DOCS_URL, REDOC_URL, app.swagger_ui_oauth2_redirect_url or _REDIRECT})


def install_docs(app: FastAPI) -> None:
    """Add /docs, /redoc and their assets to an app made with docs_url=redoc_url=None."""
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or _REDIRECT
    app.mount(DOCS_ASSETS, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    # Plain routes, as FastAPI adds its own docs: no app dependencies, not in the schema.
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    def oauth2_redirect(_request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_route(redirect_url, oauth2_redirect, include_in_schema=False)
    app.add_route(REDOC_URL, redoc, include_in_schema=False)
