"""Web hardening in headless Chromium: the API docs run under their own CSP (the CDN is not
reachable from the tests, so its bundle is a stand-in served through the browser's request
routing); the page CSP blocks injected inline script; another site's form post is refused."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

STAND_IN_BUNDLE = """
window.SwaggerUIBundle = function (options) {
  document.getElementById('swagger-ui').textContent = 'loaded ' + options.url;
  return {};
};
window.SwaggerUIBundle.presets = {apis: {}};
window.SwaggerUIBundle.SwaggerUIStandalonePreset = {};
"""


def test_swagger_ui_bootstrap_runs_under_the_docs_policy(browser_page: Any) -> None:
    page = browser_page
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda exc: messages.append(str(exc)))
    page.route(
        "https://cdn.jsdelivr.net/**/*.js",
        lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=STAND_IN_BUNDLE
        ),
    )
    page.route(
        "https://cdn.jsdelivr.net/**/*.css",
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.fulfill(status=404))
    page.goto("/docs")
    page.wait_for_function("document.getElementById('swagger-ui').textContent.startsWith('loaded')")
    assert page.locator("#swagger-ui").inner_text() == "loaded /openapi.json"
    assert not [m for m in messages if "Content Security Policy" in m], messages


def test_an_injected_inline_script_is_blocked_on_pages(browser_page: Any) -> None:
    """The page policy in force: inline script does not run (what an XSS would inject)."""
    page = browser_page
    page.goto("/verify")
    page.evaluate(
        """() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.__ran === undefined")
    # The stylesheet loaded (root-relative /static URL, allowed by style-src 'self').
    assert page.evaluate("() => getComputedStyle(document.querySelector('.skip')).position") == (
        "absolute"
    )


@pytest.mark.parametrize(
    ("action", "fields"),
    [("/verify", {"url": "https://example.org/badge.json"}), ("/credentials/x/manage/forget", {})],
)
def test_another_sites_form_is_refused_in_chromium(
    browser_page: Any, live_server: str, action: str, fields: dict[str, str]
) -> None:
    """A real cross-site form post (the browser sets Sec-Fetch-Site and Origin itself)."""
    page = browser_page
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    attacker = (
        f'<form id="f" method="post" action="{live_server}{action}">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    page.route(
        "http://attacker.test/",
        lambda route: route.fulfill(status=200, content_type="text/html", body=attacker),
    )
    with page.expect_response(f"{live_server}{action}") as answer:
        page.goto("http://attacker.test/")
    assert answer.value.status == 403
    page.wait_for_load_state()
    assert "sent from another web site" in page.content()
