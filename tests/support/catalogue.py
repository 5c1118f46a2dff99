"""Catalogue test helpers: providers with API tokens, course and micro-credential payloads."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from catalogue.base import pk
from catalogue.demo import SKILL_IRIS
from catalogue.organisations import create_organisation, get_organisation
from keys.tokens import create_token


def provider_token(session: Session, slug: str, country: str = "DE") -> str:
    """A bearer token of the organisation `slug` (created if missing)."""
    try:
        org = get_organisation(session, slug)
    except Exception:
        org = create_organisation(session, legal_name=f"{slug} GmbH", country=country, slug=slug)
    token, _ = create_token(session, pk(org))
    session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def course_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "slug": "thermal-management-of-battery-packs",
        "title": "Thermal Management of Battery Packs",
        "description": "Cooling concepts for lithium-ion packs.",
        "languages": ["en", "de"],
        "mode": "online",
        "learning_setting": "non-formal",
        "workload_hours": 30,
        "ects": 1,
        "eqf_level": 5,
        "isced_f": "0713",
        "price": {"amount": "199.00", "currency": "EUR"},
        "url": "https://provider.example/thermal",
        "start_dates": ["2027-06-01"],
        "skills": [
            {"iri": SKILL_IRIS["battery design"], "level": "practitioner"},
            {"iri": SKILL_IRIS["energy storage systems"], "level": "awareness"},
        ],
    }
    payload.update(changes)
    return payload


def micro_credential_payload(course: str, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "slug": "thermal-management-basics",
        "course": course,
        "title": "Thermal Management Basics",
        "description": "Chooses a cooling concept for a battery pack.",
        "learning_outcomes": [
            {
                "text": "Compare air and liquid cooling for a given pack.",
                "skills": [SKILL_IRIS["battery design"], SKILL_IRIS["energy storage systems"]],
            }
        ],
        "ects": 1,
        "workload_hours": 30,
        "eqf_level": 5,
        "assessment_type": "quiz",
        "mode": "online",
        "quality_assurance": "program-quality-assurance",
        "prerequisites": "None.",
        "supervision": "unsupervised-no-id",
        "grade_scheme": "Pass or fail.",
        "further_information": "https://provider.example/thermal",
        "badge_image_url": "https://provider.example/thermal.png",
        "criteria_narrative": "Pass the final quiz.",
        "valid_for_months": 12,
        "isced_f": "0713",
        "languages": ["en"],
    }
    payload.update(changes)
    return payload
