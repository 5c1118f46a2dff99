"""The shared reference artifacts (../shared/reference): official samples, fixtures, shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"
OB3 = REFERENCE / "ob3"
ELM = REFERENCE / "elm"


def reference(*parts: str) -> Path:
    """A file under ../shared/reference, or a skip when the reference set is absent."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference artifact missing: {path}")
    return path
