"""Web hardening in headless Chromium: the page CSP blocks injected inline script; another
site's form post is refused. (The API docs under their own CSP: test_docs_offline.py.)"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


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
