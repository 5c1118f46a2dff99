"""`skillshub demo`: a living hub out of the box: catalogue, providers and their issuers;
and `make_world`, the minimal issuing-ready world that tests and benchmarks build on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from accounts import audit, operators
from accounts.audit import Actor
from accounts.roles import Role
from accounts.users import add_member, create_user, find_user
from badges.issuing import create_issuer
from badges.models import Issuer
from catalogue import publishing
from catalogue.base import pk
from catalogue.models import (
    Course,
    LearningOutcome,
    LearningOutcomeSkill,
    MicroCredential,
    Organisation,
    Skill,
)
from catalogue.organisations import create_organisation
from keys.eseal import ensure_demo_seals
from keys.sealing import MasterKey
from keys.store import ensure_master_key
from keys.tokens import create_token
from skillshub.settings import Settings


def load_demo(session: Session, settings: Settings) -> dict[str, int]:
    """Idempotent: a second run adds nothing. The demo catalogue is the operator's own seed:
    published without the review a provider's entry needs (SKILLSHUB_REQUIRE_REVIEW)."""
    from catalogue.demo import load_demo_catalogue

    required = publishing.review_required(session)
    publishing.require_review(session, False)
    try:
        summary = load_demo_catalogue(session)
    finally:
        publishing.require_review(session, required)
    _alliance(session)
    master_key = ensure_master_key(session, settings.resolved_master_key())
    added = 0
    for org in session.exec(select(Organisation).order_by(col(Organisation.id))):
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
    summary["console owners added"] = _demo_owners(session)
    summary["hub operators added"] = _demo_operator(session)
    return summary


# The demo alliance: the industry alliance that operates the hub and endorses micro-credentials.
ALLIANCE = {
    "slug": "skills-alliance",
    "legal_name": "Automotive Skills Alliance (demo)",
    "country": "BE",
    "homepage": "https://skills-alliance.example",
    "email": "hub@skills-alliance.example",
}
DEMO_OPERATOR_EMAIL = "operator@skills-alliance.example"


def _alliance(session: Session) -> Organisation:
    found = session.exec(select(Organisation).where(Organisation.slug == ALLIANCE["slug"])).first()
    return found or create_organisation(session, **ALLIANCE)


def _demo_operator(session: Session) -> int:
    """The alliance's operator (DEMO_OPERATOR_EMAIL, password DEMO_PASSWORD): a hub operator
    and an owner of the alliance, so that they review and endorse in the console."""
    if find_user(session, DEMO_OPERATOR_EMAIL) is not None:
        return 0
    org = _alliance(session)
    user = create_user(session, DEMO_OPERATOR_EMAIL, password=DEMO_PASSWORD, name="Demo operator")
    add_member(session, user, org, Role.owner)
    actor = Actor.system("skillshub demo")
    operators.make_operator(session, user, actor=actor, command=None)
    audit.record(
        session,
        actor=actor,
        action="member.add",
        organisation=org,
        subject_type="user",
        subject_id=user.id,
        details={"role": Role.owner.value},
    )
    return 1


# Printed by `skillshub demo` and `make run`, and in the README: a demo database only.
DEMO_PASSWORD = "skillshub-demo"


def demo_owner_emails() -> list[str]:
    from catalogue.demo import PROVIDERS

    return [f"owner@{p['slug']}.example" for p in PROVIDERS]


def _demo_owners(session: Session) -> int:
    """An owner for each demo provider (owner@SLUG.example, password DEMO_PASSWORD); never
    for any other organisation of the database: a known password is for the demo only."""
    from catalogue.demo import PROVIDERS

    added = 0
    for provider, email in zip(PROVIDERS, demo_owner_emails(), strict=True):
        org = session.exec(select(Organisation).where(Organisation.slug == provider["slug"])).one()
        if find_user(session, email) is not None:
            continue
        user = create_user(session, email, password=DEMO_PASSWORD, name="Demo owner")
        add_member(session, user, org, Role.owner)
        audit.record(
            session,
            actor=Actor.system("skillshub demo"),
            action="member.add",
            organisation=org,
            subject_type="user",
            subject_id=user.id,
            details={"role": Role.owner.value},
        )
        added += 1
    return added


# --- a minimal world: one provider, issuer, token, course and micro-credential ----------

BATTERY_SKILL = "http://data.europa.eu/esco/skill/5f1b1b4f-1b0d-4b68-9a8f-2f6c5d0b6a10"


@dataclass
class World:
    org: Organisation
    issuer: Issuer
    mc: MicroCredential
    token: str
    master_key: MasterKey


def make_world(
    session: Session, master_key_text: str, *, slug: str = "voltacademy", public_https: bool = False
) -> World:
    """The smallest issuing-ready world, for tests and benchmarks (not the `demo` catalogue)."""
    master_key = MasterKey(master_key_text)
    org = create_organisation(
        session,
        legal_name=f"{slug.title()} GmbH",
        country="DE",
        slug=slug,
        registration_id="HRB 12345",
        homepage=f"https://{slug}.example",
    )
    base_url = f"https://{slug}.example" if public_https else "http://testserver"
    issuer = create_issuer(
        session,
        master_key,
        organisation=org,
        name=f"{slug.title()} Badges",
        slug=slug,
        base_url=base_url,
        public_https=public_https,
    )
    skill = Skill(
        iri=f"{BATTERY_SKILL[:-2]}{len(slug):02d}",
        slug=f"battery-{slug}",
        preferred_label="maintain battery systems",
        description="Maintain battery systems of electric vehicles.",
        skill_type="skill",
    )
    course = Course(
        organisation_id=pk(org),
        slug=f"{slug}-course",
        title="High-voltage battery maintenance",
        languages=["en"],
        mode="online",
        country="DE",
        ects=3,
        eqf_level=5,
    )
    session.add_all([skill, course])
    session.flush()
    mc = MicroCredential(
        course_id=pk(course),
        slug=f"{slug}-hv-battery",
        title="High-voltage battery maintenance",
        description="Diagnose and maintain EV battery systems safely.",
        country="DE",
        ects=3,
        workload_hours=75,
        eqf_level=5,
        assessment_type="exam",
        mode="online",
        quality_assurance="internal",
        criteria_narrative="Pass the practical exam.",
        valid_for_months=24,
        isced_f="0716",
        languages=["en"],
    )
    session.add(mc)
    session.flush()
    outcome = LearningOutcome(micro_credential_id=pk(mc), text="Maintain HV batteries")
    session.add(outcome)
    session.flush()
    session.add(LearningOutcomeSkill(outcome_id=pk(outcome), skill_id=pk(skill)))
    token, _ = create_token(session, pk(org))
    session.commit()
    return World(org, issuer, mc, token, master_key)
