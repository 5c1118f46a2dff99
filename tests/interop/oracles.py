"""Run the Node verifier scripts of this folder (Digital Bazaar stack, `jose`) as oracles."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

INTEROP_DIR = Path(__file__).resolve().parent
REPO = INTEROP_DIR.parents[1]
CONTEXTS_MANIFEST = REPO / "openbadges_schemas" / "contexts" / "manifest.json"
PACKAGES = (
    "@digitalbazaar/vc",
    "@digitalbazaar/data-integrity",
    "@digitalbazaar/eddsa-rdfc-2022-cryptosuite",
    "@digitalbazaar/ed25519-multikey",
    "@digitalbazaar/vc-bitstring-status-list",
    "jose",
)


def require_node() -> None:
    """Skip (with the reason) unless node and the oracle packages are installed."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed (make system-deps)")
    missing = [p for p in PACKAGES if not (INTEROP_DIR / "node_modules" / p).is_dir()]
    if missing:
        pytest.skip(f"npm packages missing in tests/interop ({', '.join(missing)}): npm ci there")


def run(script: str, *args: str, stdin: str) -> dict[str, Any]:
    """The script's JSON answer; its exit code must agree with `verified` (2 = broken oracle)."""
    require_node()
    done = subprocess.run(
        ["node", script, *args],
        input=stdin,
        cwd=INTEROP_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), f"{script} failed: {done.stderr}"
    result = json.loads(done.stdout)
    assert result["verified"] is (done.returncode == 0), result
    return result


def verify_di(credential: dict[str, Any], status_lists: Path | None = None) -> dict[str, Any]:
    args = [str(CONTEXTS_MANIFEST)] + ([str(status_lists)] if status_lists else [])
    return run("verify_di.mjs", *args, stdin=json.dumps(credential))


def verify_status_list(list_credential: dict[str, Any]) -> dict[str, Any]:
    return run("verify_status_list.mjs", str(CONTEXTS_MANIFEST), stdin=json.dumps(list_credential))


def verify_jwt(token: str, jwks: Path | None = None) -> dict[str, Any]:
    args = ["--jwks", str(jwks)] if jwks else ["--did-key"]
    return run("verify_jwt.mjs", *args, stdin=token)


# The wallet side of OpenID4VCI (wallet_oid4vci.mjs): OpenWallet Foundation's oid4vc-ts.
WALLET_PACKAGES = ("@openid4vc/openid4vci", "@openid4vc/oauth2", "jose")


def wallet_oid4vci(issuer_url: str, local_url: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run the independent wallet against the test server; its JSON result (exit 0: a
    credential received, 1: the issuer refused; anything else fails the test)."""
    require_node()
    missing = [p for p in WALLET_PACKAGES if not (INTEROP_DIR / "node_modules" / p).is_dir()]
    if missing:
        pytest.skip(f"npm packages missing in tests/interop ({', '.join(missing)}): npm ci there")
    return run("wallet_oid4vci.mjs", issuer_url, local_url, stdin=json.dumps(request))
