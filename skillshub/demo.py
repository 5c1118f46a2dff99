"""`skillshub demo`: a living hub out of the box: catalogue, providers and their issuers."""

from __future__ import annotations

from sqlmodel import Session, select

from badges.issuing import create_issuer
from badges.models import Issuer
from catalogue.models import Organisation
from keys.eseal import ensure_demo_seals
from keys.store import ensure_master_key
from skillshub.settings import Settings


def load_demo(session: Session, settings: Settings) -> dict[str, int]:
    """Idempotent: a second run adds nothing."""
    from catalogue.demo import load_demo_catalogue

    summary = load_demo_catalogue(session)
    master_key = ensure_master_key(session, settings.resolved_master_key())
    added = 0
    for org in session.exec(select(Organisation).order_by(Organisation.id)):
        slug = org.slug
        if session.exec(select(Issuer).where(Issuer.slug == slug)).first():
            continue
        create_issuer(
            session,
            master_key,
            organisation=org,
            name=org.legal_name,
            slug=slug,
            base_url=settings.base_url,
            public_https=settings.is_public_https,
            email=org.email,
        )
        added += 1
    summary["issuers added"] = added
    summary["TEST e-seal certificates added"] = ensure_demo_seals(session, master_key)
    return summary
