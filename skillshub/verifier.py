"""The verifier's long-lived context, built once from the settings (web app and CLI)."""

from __future__ import annotations

from sqlmodel import Session

from badges import status
from badges.fetching import Fetcher, FetchPolicy, PinnedDocuments
from badges.verify_input import Limits
from badges.verifying import VerificationContext
from skillshub.settings import Settings


def verification_context(settings: Settings) -> VerificationContext:
    """Fetch policy, pinned documents, limits, and our own status lists from the database."""
    pinned = PinnedDocuments.load(settings.pinned_documents) if settings.pinned_documents else None
    policy = FetchPolicy(
        allow_http_localhost=settings.allow_http_localhost,
        timeout_seconds=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        offline=settings.fetch_offline,
    )
    base_url = settings.base_url

    def local_status(session: Session, url: str) -> str | None:
        return status.local_status_list(session, base_url, url)

    return VerificationContext(
        fetcher=Fetcher(policy, pinned=pinned),
        base_url=base_url,
        local_status=local_status,
        limits=Limits(
            max_input_bytes=settings.max_upload_bytes, max_json_depth=settings.max_json_depth
        ),
    )
