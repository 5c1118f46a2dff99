"""badges.verifying.names: the UTS #39 skeleton and look-alike organisation names."""

from __future__ import annotations

import pytest

from badges.verifying.names import look_alike, name_keys, skeleton


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paypal", "paypal"),
        ("p\u0430yp\u0430l", "paypal"),  # Cyrillic a (UTS #39's own example)
        ("1", "l"),
        ("I", "l"),
        ("0", "O"),
        ("m", "rn"),  # a prototype may be longer than its source
        ("\u2113", "l"),  # SCRIPT SMALL L
        ("a\u200bb", "ab"),  # default-ignorable code points are dropped
        ("\u00e9", "e\u0301"),  # NFD before and after
    ],
)
def test_skeleton(text: str, expected: str) -> None:
    assert skeleton(text) == expected


def test_skeleton_is_idempotent() -> None:
    for text in ("VoItAcademy", "V0ltAcademy", "Escola de Mobilidade Elétrica, Lda."):
        assert skeleton(skeleton(text)) == skeleton(text)


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ("E-Mobility Institute Eindhoven B.V.", "e mobility institute eindhoven bv", True),
        ("Escola de Mobilidade Elétrica, Lda.", "ESCOLA DE MOBILIDADE ELETRICA LDA", True),
        ("ACME", "A.C.M.E.", True),
        ("ACME", "ACNE", False),
        ("ACME Training", "ACME", False),
        ("Σοφία", "ΣΟΦΙΑ", True),  # case folding beyond Latin
    ],
)
def test_look_alike(a: str, b: str, alike: bool) -> None:
    assert look_alike(a, b) is alike


def test_a_name_without_letters_matches_nothing() -> None:
    assert name_keys("...") == frozenset()
    assert not look_alike("...", "---")
