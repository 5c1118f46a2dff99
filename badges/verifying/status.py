"""The `credentialStatus` check: W3C Bitstring Status List, and 1EdTech Revocation List.

A Bitstring list is fetched (our own lists come from the database), its proof verified with
the same key rules as a credential, and it must be signed by the credential's issuer: the
host serving a list is not trusted to say what it says. A verified list is kept for its
`ttl` (default five minutes), except our own, which are read fresh so a revocation shows at
once. A list that cannot be obtained makes the check indeterminate, never "not revoked".

1EdTech Revocation List (VCRL 1.0): the issuer's unsigned list of revoked credential ids.
As OB 3.0 and the 1EdTech validator say, a list that cannot be fetched is a warning.

Lists to fetch over the network are fetched together (a few threads), each within the
verification's budget: three slow lists cost one wait, not three.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import TLRUCache

from badges.proofs.canonicalize import Canonicalizer, Checkpoint
from badges.proofs.vc_jwt import JwtError, credential_from_payload, decode_unverified
from badges.report import Check, Status
from badges.status import bitstring
from badges.verifying.fetching import (
    JSON_TYPES,
    JWT_TYPES,
    DocumentFetcher,
    Fetched,
    FetchError,
)
from badges.verifying.input import Limits, compact_jws, parse_json
from badges.verifying.proofs import ProofOutcome, issuer_id_of, verify_embedded, verify_jwt
from badges.verifying.resolving import KeyResolver, LocalDocuments
from catalogue.errors import DomainError

STATUS = "status"
DEFAULT_TTL_MS = 5 * 60 * 1000
MAX_TTL_MS = 24 * 60 * 60 * 1000
_CACHE_SIZE = 1024
_FETCH_THREADS = 4
_LIST_TYPES = JSON_TYPES | JWT_TYPES
_INDEX = re.compile(r"[0-9]{1,20}")


class _Unavailable(Exception):
    """The list could not be obtained or trusted: the status is unknown."""


class _Invalid(Exception):
    """The entry or the list is wrong: the credential fails the status check."""


@dataclass(frozen=True)
class VerifiedList:
    bits: bytearray
    purposes: tuple[str, ...]
    issuer: str | None
    ttl_seconds: float


class StatusListCache:
    """Verified lists by URL, each for its own ttl (thread-safe)."""

    def __init__(self) -> None:
        self._cache: TLRUCache = TLRUCache(
            maxsize=_CACHE_SIZE, ttu=lambda _k, v, now: now + v.ttl_seconds, timer=time.monotonic
        )
        self._lock = threading.Lock()

    def get(self, url: str) -> VerifiedList | None:
        with self._lock:
            return self._cache.get(url)

    def put(self, url: str, verified: VerifiedList) -> None:
        if verified.ttl_seconds > 0:
            with self._lock:
                self._cache[url] = verified


@dataclass
class StatusChecker:
    resolver: KeyResolver
    fetcher: DocumentFetcher
    cache: StatusListCache
    limits: Limits
    local: LocalDocuments | None = None
    # The verification's: its time checkpoint, and its canonicalizer for the lists' proofs.
    checkpoint: Checkpoint | None = None
    canonicalizer: Canonicalizer | None = None
    _fetched: dict[str, Fetched | FetchError] = field(default_factory=dict, init=False)

    def check(self, credential: Mapping[str, Any]) -> Check:
        entries = credential.get("credentialStatus")
        if entries is None:
            return Check.skipped(STATUS, "the credential has no credentialStatus (not revocable)")
        entries = entries if isinstance(entries, list) else [entries]
        self._prefetch(entries)
        results = []
        for entry in entries:
            if self.checkpoint is not None:
                self.checkpoint()
            results.append(self._entry(credential, entry))
        errors = [r for r in results if r.status is Status.ERROR]
        if errors:
            return errors[0]
        unresolved = [r for r in results if r.indeterminate]
        if unresolved:
            return unresolved[0]
        warnings = [r for r in results if r.status is Status.WARNING]
        if warnings:
            return warnings[0]
        return Check.ok(STATUS, "; ".join(r.message for r in results))

    def _prefetch(self, entries: list[Any]) -> None:
        """Fetch the lists that must come over the network, in parallel (the fetcher keeps
        each within the budget and counts it). One list alone is fetched where it is read."""
        wanted: dict[str, frozenset[str]] = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            kind = entry.get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            if "BitstringStatusListEntry" in kinds:
                url, accept = entry.get("statusListCredential"), _LIST_TYPES
            elif "1EdTechRevocationList" in kinds:
                url, accept = entry.get("id"), JSON_TYPES
            else:
                continue
            if not isinstance(url, str) or (self.local is not None and self.local.owns(url)):
                continue  # our own lists come from the database
            if accept is _LIST_TYPES and self.cache.get(url) is not None:
                continue
            wanted.setdefault(url, accept)
        if len(wanted) < 2:
            return
        with ThreadPoolExecutor(min(_FETCH_THREADS, len(wanted))) as pool:
            futures = {
                url: pool.submit(self.fetcher.fetch, url, accept=accept)
                for url, accept in wanted.items()
            }
        for url, future in futures.items():
            try:
                self._fetched[url] = future.result()
            except FetchError as exc:  # anything else (out of time) stops the verification
                self._fetched[url] = exc

    def _fetch(self, url: str, accept: frozenset[str]) -> Fetched:
        fetched = self._fetched.get(url)
        if isinstance(fetched, FetchError):
            raise fetched
        return fetched if fetched is not None else self.fetcher.fetch(url, accept=accept)

    def _entry(self, credential: Mapping[str, Any], entry: Any) -> Check:
        if not isinstance(entry, Mapping):
            return Check.error(STATUS, "a credentialStatus entry is not an object")
        kind = entry.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        try:
            if "BitstringStatusListEntry" in kinds:
                return self._bitstring(credential, entry)
            if "1EdTechRevocationList" in kinds:
                return self._revocation_list(credential, entry)
        except _Invalid as exc:
            return Check.error(STATUS, str(exc))
        except _Unavailable as exc:
            return Check.skipped(STATUS, f"status unknown: {exc}", indeterminate=True)
        return Check.skipped(
            STATUS, f"status of type {kind!r} is not supported by this verifier", indeterminate=True
        )

    # --- Bitstring Status List ---------------------------------------------------------

    def _bitstring(self, credential: Mapping[str, Any], entry: Mapping[str, Any]) -> Check:
        url, index, purpose = (
            entry.get("statusListCredential"),
            entry.get("statusListIndex"),
            entry.get("statusPurpose"),
        )
        # ASCII digits only (str.isdigit() takes "²", which int() refuses), and few enough
        # that int() stays cheap: a longer index is past any list's end anyway.
        if isinstance(index, str) and _INDEX.fullmatch(index):
            index = int(index)
        if not isinstance(url, str) or not isinstance(purpose, str):
            raise _Invalid("the status entry lacks statusListCredential or statusPurpose")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise _Invalid("the status entry's statusListIndex is not a non-negative integer")
        if entry.get("statusSize", 1) not in (1, "1"):
            raise _Unavailable("multi-bit status entries (statusSize > 1) are not supported")
        verified = self._list(url, issuer_id_of(credential))
        if purpose not in verified.purposes:
            raise _Invalid(f"the list at {url} is for {verified.purposes}, not {purpose!r}")
        try:
            is_set = bitstring.get_bit(verified.bits, index)
        except bitstring.StatusListRangeError as exc:
            raise _Invalid(str(exc)) from None
        where = f"(list {url}, index {index})"
        if not is_set:
            return Check.ok(STATUS, f"not {_past(purpose)} {where}")
        if purpose in ("revocation", "suspension"):
            return Check.error(STATUS, f"{_past(purpose)} by the issuer {where}")
        return Check.warning(STATUS, f"status {purpose!r} is set {where}")

    def _list(self, url: str, issuer_id: str | None) -> VerifiedList:
        text = self.local.status_list(url) if self.local is not None else None
        if text is None:
            cached = self.cache.get(url)
            if cached is None:
                cached = self._fetch_list(url)
                self.cache.put(url, cached)
            verified = cached
        else:
            verified = self._read_list(text.encode(), url)
        if verified.issuer != issuer_id:
            raise _Unavailable(
                f"the list at {url} is signed by {verified.issuer}, not by the credential's issuer"
            )
        return verified

    def _fetch_list(self, url: str) -> VerifiedList:
        try:
            fetched = self._fetch(url, _LIST_TYPES)
        except FetchError as exc:
            raise _Unavailable(f"the status list could not be fetched: {exc.message}") from None
        return self._read_list(fetched.body, url)

    def _read_list(self, body: bytes, url: str) -> VerifiedList:
        try:
            text = body.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            raise _Invalid(f"the status list at {url} is not text") from None
        token = compact_jws(text)
        try:
            if token is not None:
                header, payload = decode_unverified(token)
                document = credential_from_payload(payload).credential
                outcome = verify_jwt(self.resolver, token, header, issuer_id_of(document))
            else:
                document = parse_json(text, self.limits)
                if not isinstance(document, dict):
                    raise _Invalid(f"the status list at {url} is not a JSON object")
                outcome = verify_embedded(
                    self.resolver,
                    document,
                    max_proofs=self.limits.max_proofs,
                    canonicalizer=self.canonicalizer,
                    checkpoint=self.checkpoint,
                )
        except (JwtError, DomainError) as exc:
            raise _Invalid(f"the status list at {url} is malformed: {exc}") from None
        _require_verified(outcome, url)
        return _decode_list(document, url, self.limits)

    # --- 1EdTech Revocation List ---------------------------------------------------------

    def _revocation_list(self, credential: Mapping[str, Any], entry: Mapping[str, Any]) -> Check:
        url = entry.get("id")
        if not isinstance(url, str):
            raise _Invalid("the 1EdTechRevocationList entry has no id")
        try:
            fetched = self._fetch(url, JSON_TYPES)
            document = json.loads(fetched.body)
        except FetchError as exc:
            return Check.warning(
                STATUS, f"the 1EdTech revocation list could not be fetched ({exc.message})"
            )
        except (ValueError, RecursionError):
            return Check.warning(STATUS, "the 1EdTech revocation list is not JSON")
        revoked = document.get("revokedCredentials") if isinstance(document, dict) else None
        for item in revoked if isinstance(revoked, list) else []:
            if (
                isinstance(item, Mapping)
                and item.get("id") == credential.get("id")
                and item.get("revoked", True) is not False
            ):
                reason = item.get("revocationReason")
                return Check.error(
                    STATUS, "revoked by the issuer" + (f": {reason}" if reason else "")
                )
        return Check.ok(STATUS, "not in the issuer's 1EdTech revocation list")


def _past(purpose: str) -> str:
    return {"revocation": "revoked", "suspension": "suspended"}.get(purpose, purpose)


def revocation_state(check: Check | None) -> tuple[str, str | None] | None:
    """("revoked" | "suspended", the reason a 1EdTech list gives) when the status check found
    the credential revoked or suspended; None otherwise."""
    if check is None or check.id != STATUS or check.status is not Status.ERROR:
        return None
    for state in ("revoked", "suspended"):
        if check.message.startswith(f"{state} by the issuer"):
            reason = check.message.partition(": ")[2] if state == "revoked" else ""
            return state, reason or None
    return None


def _require_verified(outcome: ProofOutcome, url: str) -> None:
    if outcome.verified:
        return
    failed = outcome.key if outcome.key.status is not Status.OK else outcome.proof
    if any(check.indeterminate for check in outcome.checks):
        raise _Unavailable(f"the proof of the list at {url} could not be checked: {failed.message}")
    raise _Invalid(f"the proof of the list at {url} does not verify: {failed.message}")


def _decode_list(document: Mapping[str, Any], url: str, limits: Limits) -> VerifiedList:
    kinds = document.get("type")
    if not isinstance(kinds, list) or "BitstringStatusListCredential" not in kinds:
        raise _Invalid(f"{url} is not a BitstringStatusListCredential")
    until = document.get("validUntil")
    if isinstance(until, str):
        try:
            expired = datetime.fromisoformat(until) < datetime.now(UTC)
        except (ValueError, TypeError):
            raise _Invalid(f"the list at {url} has an invalid validUntil") from None
        if expired:
            raise _Unavailable(f"the list at {url} expired on {until}")
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise _Invalid(f"the list at {url} has no credentialSubject")
    purposes = subject.get("statusPurpose")
    purposes = tuple(p for p in (purposes if isinstance(purposes, list) else [purposes]) if p)
    try:
        bits = bitstring.decode(subject.get("encodedList"), max_bytes=limits.max_input_bytes)
    except bitstring.BitstringError as exc:
        raise _Invalid(f"the list at {url} cannot be decoded: {exc}") from None
    if len(bits) * 8 < bitstring.MIN_LIST_BITS:
        # Bitstring Status List §3.2: shorter lists give no herd privacy.
        raise _Invalid(
            f"the list at {url} holds {len(bits) * 8} entries, fewer than the "
            f"{bitstring.MIN_LIST_BITS} a Bitstring Status List must (STATUS_LIST_LENGTH_ERROR)"
        )
    ttl = subject.get("ttl", DEFAULT_TTL_MS)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
        ttl = DEFAULT_TTL_MS
    return VerifiedList(bits, purposes, issuer_id_of(document), min(ttl, MAX_TTL_MS) / 1000)
