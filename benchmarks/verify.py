"""Verifier cost: ms per credential (median, Data Integrity and VC-JWT) through
badges.verifying.service.verify, and requests/s of POST /api/v1/verify over real HTTP (uvicorn on
localhost, a bounded loop of httpx requests). Offline verifier: did:key issuers, no fetches.

Run: .venv/bin/python benchmarks/verify.py [rounds] [seconds]
"""

from __future__ import annotations

import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges.proofs import eddsa_rdfc_2022, vc_jwt
from badges.verifying import Fetcher, FetchPolicy, VerificationContext, verify
from keys.did import did_key_from_public_key, did_key_verification_method
from keys.sealing import generate_master_key
from keys.signer import from_private_key
from skillshub.devsupport import reference_dir

CREDENTIAL = reference_dir() / "ob3/examples/cross-stack-golden/sample_unsigned.json"


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm caches (resolved contexts)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def signed_pair() -> tuple[dict, str]:
    key = Ed25519PrivateKey.generate()
    did = did_key_from_public_key(key.public_key())
    method = did_key_verification_method(key.public_key())
    unsigned = json.loads(CREDENTIAL.read_text())
    unsigned["issuer"]["id"] = did
    signer = from_private_key(key, verification_method=method, kid=method)
    di = eddsa_rdfc_2022.create_proof(unsigned, signer=signer)
    return di, vc_jwt.sign(unsigned, signer=signer)


def serve(data_dir: str) -> tuple[subprocess.Popen, str]:
    """`skillshub serve` in its own process, so the client loop does not share its GIL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "SKILLSHUB_DATA_DIR": data_dir,
        "SKILLSHUB_MASTER_KEY": generate_master_key(),
        "SKILLSHUB_FETCH_OFFLINE": "true",
        # Throughput of the verifier itself: one client address would otherwise meet the
        # per-address limit within a second and time 429s.
        "SKILLSHUB_RATE_LIMIT_ENABLED": "false",
        "SKILLSHUB_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "skillshub"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def requests_per_second(url: str, body: bytes, seconds: float, workers: int) -> float:
    deadline = time.monotonic() + seconds

    def loop() -> int:
        done = 0
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                response = client.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
                assert response.status_code == 200 and response.json()["verdict"] == "valid"
                done += 1
        return done

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(lambda _: loop(), range(workers)))
    return total / (time.monotonic() - start)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    if not CREDENTIAL.is_file():
        print(f"skipped: reference credential missing: {CREDENTIAL}")
        return
    di, jwt = signed_pair()
    context = VerificationContext(fetcher=Fetcher(FetchPolicy(offline=True)))
    assert verify(context, di).verdict == "valid" and verify(context, jwt).verdict == "valid"
    for label, credential in (("Data Integrity eddsa-rdfc-2022", di), ("VC-JWT EdDSA", jwt)):
        ms = median_ms(functools.partial(verify, context, credential), rounds)
        print(f"verify {label:31} {ms:6.2f} ms (median of {rounds})")
    with tempfile.TemporaryDirectory() as data_dir:
        process, base = serve(data_dir)
        try:
            body = json.dumps(di).encode()
            for workers in (1, 4):
                rate = requests_per_second(f"{base}/api/v1/verify", body, seconds, workers)
                print(f"POST /api/v1/verify, DI, {workers} client(s): {rate:6.0f} requests/s")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
