"""What one verification may spend: a time budget and a number of fetches.

A verification's cost is chosen by whoever wrote the credential (proofs to check, blank
nodes to canonicalize, status lists and keys to fetch). One `Budget` covers the credential,
its endorsements and every document they need; the skills gap shares one between all the
credentials of a request. Time is checked between steps (proofs, endorsements, status
entries) and inside canonicalization (its checkpoint); a fetch gets at most the time left.
Out of time, the verification stops with an indeterminate verdict naming the budget.

Canonicalization is the CPU-heavy part, and under the GIL CPU-bound threads slow every other
request of the process (issuing, revoking) far more than their share: `CpuGate` lets a few
verifications canonicalize at once (the others wait, on their budget), and a canonicalizing
verification steps aside briefly every few milliseconds so that waiting requests get the GIL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from badges.proofs.canonicalize import Abandoned
from badges.verifying.fetching import Fetched, Fetcher, FetchError, FetchTimeout

Clock = Callable[[], float]
# A canonicalizing verification releases the GIL this often (real time), this long: without
# it, a request waiting for the GIL after each database round trip waits ~5 ms each time.
_PACE_EVERY = 0.002
_PACE_PAUSE = 0.0001


class BudgetExceeded(Abandoned):
    """The verification ran out of time; it stops where it is."""

    def __init__(self, seconds: float) -> None:
        self.message = (
            f"the verification was stopped at its time budget of {seconds:g} s; "
            "the checks after this point were not made"
        )
        super().__init__(self.message)


class FetchLimitReached(FetchError):
    """This verification has made as many fetches as it may."""

    code = "fetch_limit"


class Budget:
    """A deadline and a fetch allowance (thread-safe: status lists are fetched in parallel)."""

    def __init__(
        self,
        seconds: float,
        *,
        max_fetches: int,
        clock: Clock = time.monotonic,
        deadline: float | None = None,
    ) -> None:
        self.seconds = seconds
        self.max_fetches = max_fetches
        self._clock = clock
        self._deadline = clock() + seconds if deadline is None else deadline
        self._fetches = 0
        self._lock = threading.Lock()

    def same_deadline(self) -> Budget:
        """A fresh fetch allowance on this deadline: for each of several credentials that
        share one request's time (the skills gap)."""
        return Budget(
            self.seconds, max_fetches=self.max_fetches, clock=self._clock, deadline=self._deadline
        )

    def remaining(self) -> float:
        return self._deadline - self._clock()

    def check(self) -> None:
        """Raise BudgetExceeded once the time is up (the checkpoint of long work)."""
        if self.remaining() <= 0:
            raise BudgetExceeded(self.seconds)

    def take_fetch(self) -> None:
        with self._lock:
            if self._fetches >= self.max_fetches:
                raise FetchLimitReached(
                    f"not fetched: this verification already made {self.max_fetches} fetches, "
                    "the most it may"
                )
            self._fetches += 1

    @property
    def fetches(self) -> int:
        return self._fetches


class BudgetedFetcher:
    """A Fetcher seen through one verification's budget: each network fetch counts against
    the fetch allowance and gets at most the time left. Pinned documents are free."""

    def __init__(self, fetcher: Fetcher, budget: Budget) -> None:
        self.fetcher = fetcher
        self.budget = budget

    def pinned_document(self, key: str) -> bytes | None:
        return self.fetcher.pinned_document(key)

    def fetch(self, url: str, *, accept: Iterable[str]) -> Fetched:
        pinned = self.pinned_document(url.partition("#")[0])
        if self.fetcher.policy.offline or pinned is not None:
            # Nothing goes over the network: no time or fetch to account for.
            return self.fetcher.fetch(url, accept=accept)
        self.budget.check()
        self.budget.take_fetch()
        try:
            return self.fetcher.fetch(url, accept=accept, timeout=self.budget.remaining())
        except FetchTimeout:
            self.budget.check()  # cut by the budget: say that, not "timed out"
            raise


class CpuGate:
    """How many verifications may canonicalize at once in this process (thread-safe)."""

    def __init__(self, slots: int) -> None:
        self._slots = threading.BoundedSemaphore(slots)

    @contextmanager
    def admit(self, budget: Budget) -> Iterator[None]:
        """Wait for a slot while the budget lasts (BudgetExceeded when it runs out)."""
        if not self._slots.acquire(timeout=max(0.0, budget.remaining())):
            raise BudgetExceeded(budget.seconds)
        try:
            yield
        finally:
            self._slots.release()


def paced(checkpoint: Callable[[], None]) -> Callable[[], None]:
    """`checkpoint`, plus a short sleep (releasing the GIL) every few ms of real time."""
    last = time.monotonic()

    def check() -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= _PACE_EVERY:
            time.sleep(_PACE_PAUSE)
            last = time.monotonic()
        checkpoint()

    return check
