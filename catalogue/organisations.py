"""Provider organisations: create, find, list."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from catalogue.errors import Conflict, InvalidInput, NotFound
from catalogue.models import Organisation
from catalogue.text import check_fields

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80].strip("-") or "item"


def check_slug(slug: str) -> str:
    if not SLUG_RE.match(slug):
        raise InvalidInput(f"slug {slug!r} must be lower-case letters, digits and hyphens")
    return slug


def create_organisation(
    session: Session,
    *,
    legal_name: str,
    country: str,
    slug: str | None = None,
    registration_id: str | None = None,
    homepage: str | None = None,
    logo_url: str | None = None,
    email: str | None = None,
) -> Organisation:
    check_fields(
        {
            "legal_name": legal_name,
            "registration_id": registration_id,
            "homepage": homepage,
            "logo_url": logo_url,
            "email": email,
        }
    )
    legal_name = legal_name.strip()
    if not legal_name:
        raise InvalidInput("legal name is required")
    country = country.strip().upper()
    if not COUNTRY_RE.match(country):
        raise InvalidInput(f"country {country!r} must be an ISO 3166-1 alpha-2 code, e.g. DE")
    slug = check_slug(slug or slugify(legal_name))
    if session.exec(select(Organisation).where(Organisation.slug == slug)).first():
        raise Conflict(f"an organisation with slug {slug!r} already exists")
    org = Organisation(
        slug=slug,
        legal_name=legal_name,
        country=country,
        registration_id=registration_id,
        homepage=homepage,
        logo_url=logo_url,
        email=email,
    )
    session.add(org)
    session.flush()
    return org


def get_organisation(session: Session, slug: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        raise NotFound(f"organisation {slug!r} does not exist")
    return org


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).order_by(Organisation.slug)))
