"""What this hub knows about a badge one of its registered providers issued, beyond what the
credential carries: the micro-credential's EU elements (workload, EQF level, assessment), the
level of each skill, and when and why it was revoked or suspended.

Read only for a badge whose `issuer_trust` check found a registered provider (an
impersonation never borrows the catalogue's facts), and only for addresses that provider owns.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from badges.issuing import find_credential
from badges.models import StatusChange
from badges.report import Check, CredentialState, MicroCredentialFacts, Summary
from badges.verifying.resolving import path_under
from badges.verifying.status import revocation_state
from catalogue import vocabularies
from catalogue.errors import DomainError
from catalogue.models import Course, CourseSkill, MicroCredential, Skill

_MICRO_CREDENTIAL_PATH = "/micro-credentials/"
_CREDENTIAL_PATH = "/credentials/"
_ACTIONS = {"revoked": "revoke", "suspended": "suspend"}


def _label(scheme: str, code: str | None) -> str | None:
    if not code:
        return None
    try:
        return vocabularies.concept(scheme, code).label
    except DomainError:  # a code the vocabulary no longer has: show it as stored
        return code


def _micro_credential(
    session: Session, base_url: str, achievement_id: str | None
) -> MicroCredential | None:
    path = path_under(base_url, achievement_id or "") or ""
    if not path.startswith(_MICRO_CREDENTIAL_PATH):
        return None
    slug = path.removeprefix(_MICRO_CREDENTIAL_PATH)
    return session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).first()


def _facts(mc: MicroCredential, base_url: str) -> MicroCredentialFacts:
    return MicroCredentialFacts(
        title=mc.title,
        url=f"{base_url}{_MICRO_CREDENTIAL_PATH}{mc.slug}",
        workload_hours=mc.workload_hours,
        ects=mc.ects,
        eqf_level=mc.eqf_level,
        assessment=_label("assessment", mc.assessment_type),
        mode=_label("mode", mc.mode),
        quality_assurance=_label("quality-assurance", mc.quality_assurance),
    )


def _levels(session: Session, mc: MicroCredential) -> dict[str, str]:
    """skill IRI -> the level the micro-credential's course teaches it at."""
    rows = session.exec(
        select(Skill.iri, CourseSkill.level)
        .join(CourseSkill, col(CourseSkill.skill_id) == col(Skill.id))
        .join(Course, col(Course.id) == col(CourseSkill.course_id))
        .where(Course.id == mc.course_id)
    )
    return dict(rows.all())


def _state(
    session: Session | None, base_url: str | None, credential_id: Any, status: Check | None
) -> CredentialState | None:
    found = revocation_state(status)
    if found is None:
        return None
    state, reason = found
    path = path_under(base_url, credential_id) if isinstance(credential_id, str) else None
    if session is None or path is None or not path.startswith(_CREDENTIAL_PATH):
        return CredentialState(state, reason=reason)
    uuid = path.removeprefix(_CREDENTIAL_PATH)
    change = session.exec(
        select(StatusChange)
        .where(StatusChange.credential_uuid == uuid, StatusChange.action == _ACTIONS[state])
        .order_by(col(StatusChange.at).desc(), col(StatusChange.id).desc())
    ).first()
    if change is None:
        record = find_credential(session, uuid)
        since = record.revoked_at if record is not None and state == "revoked" else None
        return CredentialState(state, _iso(since), reason)
    return CredentialState(state, _iso(change.at), change.reason or reason)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def enrich(
    summary: Summary,
    *,
    session: Session | None,
    base_url: str | None,
    status: Check | None,
) -> Summary:
    """The summary with the hub's own facts added where it has them."""
    state = _state(session, base_url, summary.credential_id, status)
    trust = summary.issuer_trust
    if session is None or base_url is None or trust is None or trust.standing != "registered":
        return replace(summary, state=state)
    mc = _micro_credential(session, base_url, summary.achievement_id)
    if mc is None:
        return replace(summary, state=state)
    levels = _levels(session, mc)
    skills = [replace(s, level=levels.get(s.url or "")) for s in summary.skills]
    return replace(summary, state=state, micro_credential=_facts(mc, base_url), skills=skills)
