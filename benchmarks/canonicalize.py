"""Median cost of canonicalize, eddsa-rdfc-2022 sign and verify on OB spec example 02.

Run: .venv/bin/python benchmarks/canonicalize.py [rounds]
Needs the reference set (../shared/reference, or SKILLSHUB_REFERENCE_DIR): without it, says so.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from badges.proofs.canonicalize import canonicalize
from badges.proofs.eddsa_rdfc_2022 import create_proof, verify_proof
from keys.signer import from_private_key
from openbadges_schemas.loader import default_loader
from skillshub.devsupport import reference_dir

EXAMPLE = (
    reference_dir()
    / "ob3/examples/ob3-spec-rendered/02-sample-openbadgecredential/credential.unsigned.json"
)


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm the context caches
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if not EXAMPLE.is_file():
        print(f"skipped: reference example missing: {EXAMPLE}")
        return
    document = json.loads(EXAMPLE.read_text())
    key = Ed25519PrivateKey.generate()
    method = "did:example:issuer#key-1"
    signer = from_private_key(key, verification_method=method)
    signed = create_proof(document, signer=signer)
    loader = default_loader()

    def plain_loader(url: str, options: dict) -> dict:
        # What a naive offline loader returns: no cache tag, so pyld re-resolves
        # every context on every call.
        return {**loader(url, options), "tag": None}

    def raw_pyld(document_loader: Callable) -> Callable[[], str]:
        # pyld as-is (no safe-mode checks), for comparison.
        options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
        return lambda: jsonld.normalize(document, {**options, "documentLoader": document_loader})

    figures = {
        "raw pyld, untagged loader": median_ms(raw_pyld(plain_loader), rounds),
        "raw pyld, pinned loader": median_ms(raw_pyld(loader), rounds),
        "canonicalize (safe mode)": median_ms(lambda: canonicalize(document), rounds),
        "eddsa-rdfc-2022 sign": median_ms(lambda: create_proof(document, signer=signer), rounds),
        "eddsa-rdfc-2022 verify": median_ms(
            lambda: verify_proof(signed, signed["proof"], key.public_key()), rounds
        ),
    }
    print(f"OB spec example 02, median of {rounds} rounds")
    for name, ms in figures.items():
        print(f"  {name:32s} {ms:7.3f} ms")


if __name__ == "__main__":
    main()
