"""The one Accept-header parser (skillshub/web/negotiation.py): q-values, specificity,
wildcards, ties, and malformed headers that never fail."""

from __future__ import annotations

from typing import Any

import pytest

from skillshub.web.negotiation import preferred, preferred_kind, prefers_html

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
OFFERS = {
    "html": ("text/html", "application/xhtml+xml"),
    "json": ("application/ld+json", "application/json"),
    "jwt": ("application/jwt",),
}


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("", False),
        ("*/*", False),  # alike for both: the API's JSON
        ("application/json", False),
        ("text/html", True),
        ("application/json, text/html", False),  # a tie: the earlier wins
        ("text/html, application/json", True),
        ("text/html;q=0.5, application/json", False),  # q-values before order
        ("application/json;q=0.4, text/html;q=0.5", True),
        ("text/html;q=0, */*", False),  # q=0: not acceptable
        ("text/*", True),  # a wildcard of the right type
        ("text/*;q=0.9, application/*;q=0.8", True),
        ("text/html;q=0.2, application/vc+ld+json", False),
        ("*/*;q=0.1, text/html;q=0.2", True),  # the most specific range counts
        ("TEXT/HTML", True),
    ],
)
def test_prefers_html(accept: str, html: bool) -> None:
    assert prefers_html(accept) is html


@pytest.mark.parametrize(
    "accept",
    [
        ";;;,,,",
        "text/html;q=abc",
        "text/html;q=nan",
        "text/html;q=inf",
        "text/html;q=-1",
        "text/html;q=2",
        "html",
        "/",
        "q=1",
        "text/plain;" + "a=b;" * 1000,
        ",".join(["text/plain"] * 10_000) + ",text/html",  # past the ranges read
        "\x00\udcff",
    ],
)
def test_malformed_headers_never_fail(accept: str) -> None:
    # An unreadable q-value is 0 (not acceptable); a part that is no media range matches nothing.
    assert prefers_html(accept) is False
    assert preferred(accept, ("application/json",)) is None
    assert preferred_kind(accept, OFFERS, "json") is None


def test_preferred_takes_q_values_then_the_order_of_the_offers() -> None:
    offers = ("application/ld+json", "application/json")
    assert preferred("", offers) == "application/ld+json"
    assert preferred("*/*", offers) == "application/ld+json"
    assert preferred("application/json", offers) == "application/json"
    assert preferred("application/json, application/ld+json;q=0.9", offers) == "application/json"
    assert preferred("application/*;q=0.5, application/json", offers) == "application/json"
    assert preferred("image/png", offers) is None


def test_preferred_kind_breaks_ties_for_the_native_kind() -> None:
    assert preferred_kind("", OFFERS, "jwt") == ("jwt", "application/jwt")
    assert preferred_kind("*/*", OFFERS, "jwt") == ("jwt", "application/jwt")
    assert preferred_kind("*/*", OFFERS, "json") == ("json", "application/ld+json")
    assert preferred_kind(BROWSER, OFFERS, "json") == ("html", "text/html")
    assert preferred_kind("application/json;q=0.9, application/jwt", OFFERS, "json") == (
        "jwt",
        "application/jwt",
    )
    assert preferred_kind("image/png", OFFERS, "json") is None


@pytest.mark.parametrize("accept", ["text/html;q=nan", ";;,", "*/*;q=x", "text/html;q=1e999"])
def test_malformed_accept_over_http_is_never_a_500(client: Any, accept: str) -> None:
    for url in ("/no-such-page", "/search?q=battery", "/gap", "/api/v1/skills"):
        response = client.get(url, headers={"accept": accept})
        assert response.status_code < 500, (url, response.status_code)
