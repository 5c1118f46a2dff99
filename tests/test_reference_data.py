"""Without the reference set, its tests skip with one summary line, or fail when CI requires it.

Runs pytest in a subprocess on a small file that reads two reference artifacts, with
SKILLSHUB_REFERENCE_DIR pointing at an empty directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skillshub.devsupport import REFERENCE_ENV, REQUIRE_REFERENCE_ENV

REPO = Path(__file__).resolve().parents[1]
SAMPLE = "tests/keys/test_multikey.py"  # 2 of its tests read reference files, the rest do not

pytestmark = pytest.mark.slow


def _pytest(empty: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SKILLSHUB_"))}
    env.update({REFERENCE_ENV: str(empty), "PYTHONPATH": str(REPO), **extra})
    return subprocess.run(
        [sys.executable, "-m", "pytest", SAMPLE, "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_missing_reference_skips_with_one_summary_line(tmp_path: Path) -> None:
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = [line for line in done.stdout.splitlines() if "missing reference data" in line]
    assert summary == [
        f"2 tests skipped for missing reference data, expected at {tmp_path} "
        f"(set {REFERENCE_ENV} to move it; {REQUIRE_REFERENCE_ENV}=1 makes this a failure)"
    ]
    assert " 2 skipped" in done.stdout.splitlines()[-1]


def test_required_reference_turns_the_skips_into_failures(tmp_path: Path) -> None:
    done = _pytest(tmp_path, **{REQUIRE_REFERENCE_ENV: "1"})
    assert done.returncode == 1, done.stdout + done.stderr
    last = done.stdout.splitlines()[-1]
    assert "2 failed" in last and "skipped" not in last, last
    assert f"reference artifact missing: {tmp_path}" in done.stdout
