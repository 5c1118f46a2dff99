"""The verifier's long-lived context, built once from the settings (web app and CLI)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from sqlmodel import Session

from badges import status
from badges.models import IssuedCredential
from badges.proofs import revocation
from badges.sharing import images
from badges.verifying import (
    FetchPolicy,
    Limits,
    PinnedDocuments,
    PinnedDocumentsError,
    VerificationContext,
)
from badges.verifying.budget import CpuGate
from badges.verifying.fetching import CRL_TYPES, Fetcher, FetchTimeout
from badges.verifying.trust_lists import TrustListError, TrustLists
from catalogue.errors import DomainError
from skillshub.metrics import CountingFetcher
from skillshub.settings import Settings


class VerifierSettingsError(DomainError):
    code = "bad_setting"


def _trust_anchors(path: Path | None) -> tuple[x509.Certificate, ...]:
    if path is None:
        return ()
    try:
        return tuple(x509.load_pem_x509_certificates(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise VerifierSettingsError(
            f"SKILLSHUB_SEAL_TRUST_ANCHORS: cannot read certificates from {path}: {exc}"
        ) from None


def _trust_lists(paths: tuple[Path, ...]) -> TrustLists:
    try:
        return TrustLists.load(paths)
    except TrustListError as exc:
        raise VerifierSettingsError(f"SKILLSHUB_TRUST_LISTS: {exc.message}") from None


def _baked_image(session: Session, record: IssuedCredential, kind: str) -> bytes:
    return images.baked(session, record, "png" if kind == "png" else "svg")


def verification_context(settings: Settings) -> VerificationContext:
    """Fetch policy, pinned documents, trust anchors and lists, limits (the work budget
    included), and our own documents (status lists, credentials, badge images) from the
    database. A bad file named by a setting is an error here,
    at start-up."""
    try:
        pinned = (
            PinnedDocuments.load(settings.pinned_documents) if settings.pinned_documents else None
        )
    except PinnedDocumentsError as exc:
        raise VerifierSettingsError(f"SKILLSHUB_PINNED_DOCUMENTS: {exc}") from None
    policy = FetchPolicy(
        allow_http_localhost=settings.allow_http_localhost,
        timeout_seconds=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        offline=settings.fetch_offline,
        failure_cache_seconds=settings.fetch_failure_cache_seconds,
    )
    base_url = settings.base_url

    def local_status(session: Session, url: str) -> str | None:
        return status.local_status_list(session, base_url, url)

    return VerificationContext(
        fetcher=CountingFetcher(policy, pinned=pinned),
        base_url=base_url,
        local_status=local_status,
        baked_image=_baked_image,
        trust_lists=_trust_lists(settings.trust_lists),
        trust_anchors=_trust_anchors(settings.seal_trust_anchors),
        cpu=CpuGate(settings.verify_concurrency),
        limits=Limits(
            max_input_bytes=settings.max_upload_bytes,
            max_json_depth=settings.max_json_depth,
            budget_seconds=settings.verify_budget_seconds,
            max_proofs=settings.verify_max_proofs,
            max_endorsements=settings.verify_max_endorsements,
            max_fetches=settings.verify_max_fetches,
        ),
    )


@dataclass(frozen=True)
class SealRevocation:
    """What a Europass export needs for B-LT: a bounded CRL fetch and the trust anchors."""

    fetch: revocation.Fetch | None
    trust_anchors: tuple[x509.Certificate, ...]


def seal_revocation(settings: Settings) -> SealRevocation:
    """A CRL fetch for one export (None when SKILLSHUB_SEAL_REVOCATION is off): through the
    SSRF-safe fetcher (public addresses only; plain http allowed, a CRL being signed in
    itself), each fetch within the fetch timeout and size cap, all of them together within
    twice the timeout; pinned documents first."""
    anchors = _trust_anchors(settings.seal_trust_anchors)
    if not settings.seal_revocation:
        return SealRevocation(None, anchors)
    try:
        pinned = (
            PinnedDocuments.load(settings.pinned_documents) if settings.pinned_documents else None
        )
    except PinnedDocumentsError as exc:
        raise VerifierSettingsError(f"SKILLSHUB_PINNED_DOCUMENTS: {exc}") from None
    fetcher = Fetcher(
        FetchPolicy(
            allow_http_localhost=settings.allow_http_localhost,
            allow_plain_http=True,
            timeout_seconds=settings.fetch_timeout_seconds,
            max_bytes=settings.fetch_max_bytes,
            offline=settings.fetch_offline,
            failure_cache_seconds=0,
        ),
        pinned=pinned,
    )
    deadline = time.monotonic() + 2 * settings.fetch_timeout_seconds

    def fetch(url: str) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchTimeout("the time for fetching revocation data is spent")
        return fetcher.fetch(url, accept=CRL_TYPES, timeout=left).body

    return SealRevocation(fetch, anchors)
