"""Bounded work per verification: proofs and endorsements over their caps, one
canonicalization per document, one time budget (a driven clock, never wall time), a fetch
allowance, status lists fetched together, and failed URLs remembered.

Counts, not timings: canonicalizations through a wrapper, fetches through server hits.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from badges.proofs import compiled, eddsa_rdfc_2022
from badges.proofs.data_integrity import encode_proof_value
from badges.report import Status
from badges.status import bitstring
from badges.verifying import (
    Fetcher,
    FetchPolicy,
    Limits,
    VerificationContext,
    proven_skills,
    verify,
)
from badges.verifying.budget import Budget
from badges.verifying.trust_lists import ListedIssuer, TrustLists
from tests.support.own import Signer, credential
from tests.support.present import check_of

HOSTILE_ALIGNMENTS = 900
HOSTILE_PROOFS = 50


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.ed25519()


def offline(**limits: Any) -> VerificationContext:
    return VerificationContext(fetcher=Fetcher(FetchPolicy(offline=True)), limits=Limits(**limits))


@pytest.fixture
def canonicalizations(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the verifier canonicalized a credential ("document") or a proof configuration
    (through a compiled template or the pyld path: badges.proofs.compiled)."""
    counts: Counter[str] = Counter()
    real = compiled.canonical_nquads

    def counting(document: dict[str, Any], **kwargs: Any) -> str:
        counts["document" if "credentialSubject" in document else "proof config"] += 1
        return real(document, **kwargs)

    monkeypatch.setattr(compiled, "canonical_nquads", counting)
    return counts


def with_bogus_proofs(signed: dict[str, Any], count: int, *, keep_real: bool) -> dict[str, Any]:
    """`count` proofs by the issuer's key that do not verify (and the real one last)."""
    real = signed["proof"]
    bogus = [
        {**real, "created": f"2025-01-01T00:{n // 60:02d}:{n % 60:02d}Z"}
        | {"proofValue": encode_proof_value(bytes([n % 256]) * 64)}
        for n in range(count - (1 if keep_real else 0))
    ]
    return {**signed, "proof": [*bogus, real] if keep_real else bogus}


def hostile(signer: Signer) -> dict[str, Any]:
    """The outside review's credential: ~200 KB, 900 alignments, 50 bogus proofs."""
    document = credential(signer.did)
    achievement = document["credentialSubject"]["achievement"]
    alignment = achievement["alignment"][0]
    achievement["alignment"] = [
        {**copy.deepcopy(alignment), "targetCode": f"code-{n:04d}", "targetDescription": "x" * 60}
        for n in range(HOSTILE_ALIGNMENTS)
    ]
    return with_bogus_proofs(signer.data_integrity(document), HOSTILE_PROOFS, keep_real=False)


# --- proofs ---------------------------------------------------------------------------------


def test_the_hostile_credential_is_refused_unchecked(
    signer: Signer, canonicalizations: Counter[str]
) -> None:
    document = hostile(signer)
    assert len(json.dumps(document)) > 200_000
    report = verify(offline(), document)
    assert report.verdict == "indeterminate"
    proof = check_of(report, "proof")
    assert proof.indeterminate
    assert f"carries {HOSTILE_PROOFS} proofs, more than the 8 this verifier checks" in proof.message
    # Refused before any work: not one canonicalization (it was 51 of the 200 KB document).
    assert canonicalizations == Counter()
    assert len(report.summary.skills) == HOSTILE_ALIGNMENTS


def with_valid_proofs(signer: Signer, count: int) -> dict[str, Any]:
    """A proof set of `count` proofs by the issuer's key, each with its own `created`."""
    signed: dict[str, Any] = credential(signer.did)
    for n in range(count):
        signed = eddsa_rdfc_2022.create_proof(
            signed, signer=signer.signer, created=f"2025-01-01T00:00:{n:02d}Z"
        )
    return signed


def test_a_proof_set_canonicalizes_the_document_once(
    signer: Signer, canonicalizations: Counter[str]
) -> None:
    report = verify(offline(), with_valid_proofs(signer, 8))
    assert report.verdict == "valid", report.checks
    assert check_of(report, "proof").message.startswith("all 8 proofs of the set verified")
    # Eight proofs checked: eight proof configurations, but the document once (the JSON-LD
    # check reused it too, when the proofs fail).
    assert canonicalizations == Counter({"document": 1, "proof config": 8})
    canonicalizations.clear()
    signed = signer.data_integrity(credential(signer.did))
    failing = verify(offline(), with_bogus_proofs(signed, 8, keep_real=False))
    assert failing.verdict == "invalid" and check_of(failing, "jsonld").status is Status.OK
    assert canonicalizations == Counter({"document": 1, "proof config": 8})


def test_every_proof_of_a_set_must_verify(signer: Signer) -> None:
    signed = signer.data_integrity(credential(signer.did))
    one_bad = with_bogus_proofs(signed, 3, keep_real=True)
    report = verify(offline(), one_bad)
    assert report.verdict == "invalid"
    assert check_of(report, "proof").message.startswith("proof 1 of 3: Data Integrity")


def test_proofs_beyond_the_cap_are_refused(signer: Signer) -> None:
    signed = with_valid_proofs(signer, 3)
    assert verify(offline(max_proofs=3), signed).verdict == "valid"
    report = verify(offline(max_proofs=2), signed)
    assert report.verdict == "indeterminate"
    assert (
        "carries 3 proofs, more than the 2 this verifier checks"
        in check_of(report, "proof").message
    )


# --- endorsements ---------------------------------------------------------------------------


def endorsed(signer: Signer, count: int) -> dict[str, Any]:
    endorser = Signer.ed25519()
    tokens = [endorser.jwt(credential(endorser.did, name=f"Endorsement {n}")) for n in range(count)]
    document = credential(signer.did)
    document["credentialSubject"]["achievement"]["endorsementJwt"] = tokens
    return signer.data_integrity(document)


def test_endorsements_beyond_the_cap_are_refused(signer: Signer) -> None:
    within = verify(offline(max_endorsements=3), endorsed(signer, 3))
    assert within.verdict == "valid", within.checks
    assert len(within.endorsements) == 3
    over = verify(offline(max_endorsements=3), endorsed(signer, 4))
    assert over.verdict == "indeterminate"
    check = check_of(over, "endorsements")
    assert check.indeterminate
    assert "carries 4 endorsements, more than the 3 this verifier checks" in check.message
    assert over.endorsements == []  # not one was verified


# --- the time budget ------------------------------------------------------------------------


class StepClock:
    """Each reading is `step` seconds after the previous: the budget runs out after a known
    number of checkpoints, whatever the machine's speed (step 0 only counts the readings)."""

    def __init__(self, step: float = 1.0) -> None:
        self.step = step
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.readings * self.step


def test_over_budget_is_indeterminate_and_names_the_budget(signer: Signer) -> None:
    signed = signer.data_integrity(credential(signer.did))
    context = VerificationContext(
        fetcher=Fetcher(FetchPolicy(offline=True)),
        limits=Limits(budget_seconds=6),
        clock=StepClock(),
    )
    report = verify(context, signed)
    assert report.verdict == "indeterminate"
    budget = check_of(report, "budget")
    assert budget.indeterminate
    assert "stopped at its time budget of 6 s" in budget.message
    # Stopped inside the proof's canonicalization (its checkpoints), before any other check.
    assert [c.id for c in report.checks] == ["format", "budget"]
    assert report.summary.issuer_name == "Volt Academy"


def test_endorsements_share_the_parents_budget(signer: Signer) -> None:
    document = endorsed(signer, 3)
    # Twice in full first: every shape has its compiled template (a shape compiles the second
    # time the verifier sees it), so both runs below take the same steps.
    for _ in range(2):
        verify(offline(), document)
    # The readings the credential's own checks take (endorsements refused, so unverified).
    own = StepClock(step=0)
    verify(
        VerificationContext(
            fetcher=Fetcher(FetchPolicy(offline=True)), limits=Limits(max_endorsements=0), clock=own
        ),
        document,
    )
    # A budget that lasts through those and a reading more: the first endorsement spends the
    # parent's time (it does not get a budget of its own) and runs out.
    context = VerificationContext(
        fetcher=Fetcher(FetchPolicy(offline=True)),
        limits=Limits(budget_seconds=own.readings + 1),
        clock=StepClock(),
    )
    report = verify(context, document)
    assert report.verdict == "indeterminate"
    assert "time budget" in check_of(report, "budget").message
    assert check_of(report, "proof").status is Status.OK  # the credential itself was checked
    assert report.check("endorsements") is None


def test_the_skills_gap_shares_one_budget_between_credentials(signer: Signer) -> None:
    signed = signer.data_integrity(credential(signer.did))
    one = StepClock(step=0)
    verify(VerificationContext(fetcher=Fetcher(FetchPolicy(offline=True)), clock=one), signed)
    # The clock stands still for exactly one verification, then jumps an hour: a budget
    # per credential would be fresh for the next one; the request's one is spent.
    readings = itertools.chain(itertools.repeat(0.0, one.readings), itertools.repeat(3600.0))
    # Listed, so that its skills count (an unknown issuer's do not).
    listed = TrustLists([ListedIssuer(signer.did, "Volt Academy", "test list", country="DE")])
    context = VerificationContext(
        fetcher=Fetcher(FetchPolicy(offline=True)),
        clock=lambda: next(readings),
        trust_lists=listed,
    )
    proven, held = proven_skills.proven_skills(context, [signed, signed, signed])
    assert [h.verdict for h in held] == ["valid", "indeterminate", "indeterminate"]
    assert all("time budget of 5 s" in (h.reason or "") for h in held[1:])
    assert proven  # the first one counted


# --- fetches: allowance, concurrency, remembered failures ----------------------------------


class _Lists:
    """Status lists served on 127.0.0.1; a barrier makes the list requests meet (so they
    must be in flight together), and every request is counted."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        self.barrier: threading.Barrier | None = None


@pytest.fixture
def lists() -> Iterator[tuple[_Lists, str]]:
    state = _Lists()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.hits[self.path] += 1
            if state.barrier is not None:
                try:
                    state.barrier.wait()
                except threading.BrokenBarrierError:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            body = state.documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def status_list(signer: Signer, url: str) -> bytes:
    bits = bytearray(bitstring.MIN_LIST_BITS // 8)
    signed = signer.data_integrity(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": signer.did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": bitstring.encode(bits),
                "ttl": 0,  # not cached: each verification fetches
            },
        }
    )
    return json.dumps(signed).encode()


def entry(url: str, index: int = 3) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def local_context(timeout: float = 5.0, **limits: Any) -> VerificationContext:
    return VerificationContext(
        fetcher=Fetcher(FetchPolicy(allow_http_localhost=True, timeout_seconds=timeout)),
        limits=Limits(**limits),
    )


def test_status_lists_are_fetched_together(signer: Signer, lists: tuple[_Lists, str]) -> None:
    state, base = lists
    urls = [f"{base}/lists/{n}" for n in range(3)]
    for url in urls:
        state.documents[url.removeprefix(base)] = status_list(signer, url)
    # Each list request waits until all three have arrived: one after another, the first
    # would wait alone until the barrier broke (503), and the status would be unknown.
    state.barrier = threading.Barrier(3, timeout=10)
    signed = signer.data_integrity(credential(signer.did, status=[entry(u) for u in urls]))
    report = verify(local_context(timeout=30, budget_seconds=30), signed)
    assert report.verdict == "valid", report.checks
    assert check_of(report, "status").status is Status.OK
    assert sum(state.hits.values()) == 3


def test_fetches_beyond_the_allowance_are_refused(
    signer: Signer, lists: tuple[_Lists, str]
) -> None:
    state, base = lists
    urls = [f"{base}/lists/{n}" for n in range(3)]
    for url in urls:
        state.documents[url.removeprefix(base)] = status_list(signer, url)
    signed = signer.data_integrity(credential(signer.did, status=[entry(u) for u in urls]))
    report = verify(local_context(max_fetches=2), signed)
    assert report.verdict == "indeterminate"
    assert "already made 2 fetches" in check_of(report, "status").message
    assert sum(state.hits.values()) == 2


def test_a_failing_status_list_is_fetched_once_within_the_ttl(
    signer: Signer, lists: tuple[_Lists, str]
) -> None:
    state, base = lists
    missing = f"{base}/lists/gone"
    signed = signer.data_integrity(credential(signer.did, status=[entry(missing)]))
    context = local_context()  # one Fetcher: its memory of failures spans verifications
    reports = [verify(context, signed) for _ in range(3)]
    assert [r.verdict for r in reports] == ["indeterminate"] * 3
    assert state.hits["/lists/gone"] == 1
    assert "a moment ago" in check_of(reports[-1], "status").message


def test_a_verification_waits_for_the_cpu_gate_within_its_budget(signer: Signer) -> None:
    # One verification canonicalizes at a time (under the GIL more would slow issuing for
    # everyone): while the slot is taken, another waits, and only as long as its budget.
    signed = signer.data_integrity(credential(signer.did))
    context = offline(budget_seconds=0.2)
    with context.cpu.admit(Budget(60, max_fetches=0)):
        report = verify(context, signed)
    assert report.verdict == "indeterminate"
    assert "time budget of 0.2 s" in check_of(report, "budget").message
    patient = dataclasses.replace(context, limits=Limits())  # the same gate, the usual budget
    assert verify(patient, signed).verdict == "valid"  # the slot is free again
