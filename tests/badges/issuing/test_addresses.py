"""The fast path of recipient addresses gives email-validator's answer, address for address."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given
from hypothesis import strategies as st

from badges.issuing import addresses

# Pieces an address is made of, the awkward ones included: role mailboxes the library
# lowercases, quotes, display names, IDN and special-use domains, dots in odd places.
_LOCAL = st.one_of(
    st.text(alphabet="abcXYZ019._+-!#'~\"\\ @<>é", min_size=0, max_size=70),
    st.sampled_from(["Postmaster", "ABUSE", "info", "Max.Mustermann", "a..b", ".a", "a."]),
)
_DOMAIN = st.one_of(
    st.sampled_from(
        [
            "example.org",
            "Example.ORG",
            "exämple.de",
            "xn--exmple-cua.de",
            "localhost",
            "test",
            "example.test",
            "a.invalid",
            "[127.0.0.1]",
            "-bad.org",
            "bad-.org",
            "123.456",
            "sub.domain.example.com",
            "",
            "a" * 64 + ".org",
            ("x" * 60 + ".") * 4 + "eu",
        ]
    ),
    st.text(alphabet="abz09.-ÄX", min_size=0, max_size=30),
)


def _library(address: str) -> str:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return f"refused: {exc}"


def _ours(address: str) -> str:
    try:
        return addresses.normalized(address)
    except EmailNotValidError as exc:
        return f"refused: {exc}"


@given(_LOCAL, _DOMAIN, st.sampled_from(["", " ", "Name <", "\n"]))
@example("learner1", "example.org", "")
@example("x" * 64, "example.org", "")
@example("x" * 65, "example.org", "")
@example("x" * 64, ("y" * 60 + ".") * 3 + "y" * 6 + ".org", "")
def test_the_same_answer_as_email_validator(local: str, domain: str, before: str) -> None:
    address = f"{before}{local}@{domain}{'>' if before.endswith('<') else ''}"
    assert _ours(address) == _library(address)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Ada.Lovelace@Example.ORG", "Ada.Lovelace@example.org"),  # the local part kept
        ("Postmaster@example.org", "postmaster@example.org"),  # a role mailbox, lowercased
    ],
)
def test_normalised_forms(address: str, expected: str) -> None:
    assert addresses.normalized(address) == expected


def test_an_invalid_address_has_the_librarys_message() -> None:
    with pytest.raises(EmailNotValidError, match="@-sign"):
        addresses.normalized("learner.example.org")
