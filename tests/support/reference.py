"""The shared reference artifacts (../shared/reference, or SKILLSHUB_REFERENCE_DIR): official
samples, fixtures, shapes. Absent, their tests skip (one summary line says so); with
SKILLSHUB_REQUIRE_REFERENCE=1, as in CI, they fail instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillshub.devsupport import REQUIRE_REFERENCE_ENV, reference_dir, reference_required

REPO = Path(__file__).resolve().parents[2]
REFERENCE = reference_dir()
OB3 = REFERENCE / "ob3"
ELM = REFERENCE / "elm"
MISSING_REFERENCE = "reference artifact missing"


def reference(*parts: str) -> Path:
    """A file under the reference set, or a skip when it is absent (a failure when
    SKILLSHUB_REQUIRE_REFERENCE=1, so the tests cannot pass by not running)."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        message = f"{MISSING_REFERENCE}: {path}"
        if reference_required():
            pytest.fail(f"{message} ({REQUIRE_REFERENCE_ENV}=1)", pytrace=False)
        pytest.skip(message)
    return path
