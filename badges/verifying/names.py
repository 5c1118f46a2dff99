"""Whether two organisation names look alike: the UTS #39 skeleton, with case folding, NFKC,
and whitespace and punctuation ignored.

UTS #39 §4: skeleton(X) = NFD(X), with Default_Ignorable code points removed, each character
replaced by its prototype from confusables.txt, then NFD again; X and Y are confusable when
their skeletons are equal. The prototypes come from `confusable-homoglyphs`, which keeps
Unicode's confusables.txt as a two-way map (each source lists its prototype, each prototype
its sources); `_prototypes` turns it back into the one-way table the skeleton needs.

Case: the skeleton maps capital I to l ("VoItAcademy" reads as "VoltAcademy"), while case
folding maps it to i ("BATTERIETECHNIK" is "Batterietechnik"). Both are real look-alikes,
so a name has two keys, skeleton-then-fold and fold-then-skeleton, and names match when
either key is equal.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

from confusable_homoglyphs.confusables import confusables_data

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt): invisible characters that a
# look-alike could slip in ("Volt\u200bAcademy"). Python's unicodedata does not expose it.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# The display form in confusables.txt (and so in the package's data) wraps right-to-left
# characters in LEFT-TO-RIGHT MARKs; they are not part of the character.
_LRM = "\u200e"
# What a name keeps after the skeleton: letters, marks and digits (spaces, punctuation and
# symbols do not tell two organisations apart: "Volt-Academy" is "Volt Academy"). Accents on
# Latin letters go too: "Eletrica" passes for "Elétrica" at a glance; other scripts keep
# their marks, which may be all that tells two words apart.
_KEPT = ("L", "M", "N")


def _ignorable(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE)


@cache
def _prototypes() -> dict[str, str]:
    """source character -> prototype string, from the package's two-way map.

    Every line of confusables.txt is "source ; prototype", and the table is closed (no
    prototype is itself a source). So a key with several partners, or a multi-character key,
    is a prototype; a single character whose one partner is a multi-character string, or a
    character with several sources, is a source. Left: pairs where each is the other's only
    partner; the package wrote them in file order, source first, so the earlier key is the
    source. Checked against Unicode's confusables.txt 13.0: 6307 of its 6311 mappings agree;
    the four it lacks are U+2028, U+2029, U+3164 and U+1F16D, the first three of which are
    whitespace or ignorable here anyway."""
    position = {key: n for n, key in enumerate(confusables_data)}
    table: dict[str, str] = {}
    for key, partners in confusables_data.items():
        source = key.replace(_LRM, "")
        if len(source) != 1 or len(partners) != 1:
            continue
        raw = partners[0]["c"]
        prototype = raw.replace(_LRM, "")
        back = confusables_data.get(raw, [])
        if len(prototype) > 1 or len(back) > 1 or position[key] < position.get(raw, -1):
            table[source] = prototype
    return table


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of `text`."""
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    mapped = "".join(table.get(c, c) for c in decomposed if not _ignorable(c))
    return unicodedata.normalize("NFD", mapped)


def _letters(text: str) -> str:
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] not in _KEPT:
            continue
        if category == "Mn" and (not kept or kept[-1].isascii()):
            continue
        kept.append(char)
    return "".join(kept)


def name_keys(name: str) -> frozenset[str]:
    """The keys under which `name` is compared; empty for a name with no letters or digits.
    Remembered for names of ordinary length: the register's and the trust lists' names are
    met at every verification (a badge's own name may be huge: not kept)."""
    return _remembered_keys(name) if len(name) <= _REMEMBERED_LENGTH else _keys(name)


_REMEMBERED_LENGTH = 300


@lru_cache(maxsize=4096)
def _remembered_keys(name: str) -> frozenset[str]:
    return _keys(name)


def _keys(name: str) -> frozenset[str]:
    text = unicodedata.normalize("NFKC", name)
    keys = {
        _letters(skeleton(skeleton(text).casefold())),
        _letters(skeleton(text.casefold())),
    }
    return frozenset(key for key in keys if key)


def look_alike(a: str, b: str) -> bool:
    """True when the names are the same after NFKC, case folding, confusables and spacing."""
    return bool(name_keys(a) & name_keys(b))
