"""The review workflow (issue 20), on both databases: with SKILLSHUB_REQUIRE_REVIEW a provider's
token cannot publish, a submission waits for an operator, who requests changes or approves;
the provider never approves its own; every step in the audit log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from accounts.models import AuditEvent
from accounts.roles import Role
from catalogue.base import pk
from catalogue.models import Course, JobRole, JobRoleSkill, MicroCredential, Submission
from catalogue.organisations import get_organisation
from tests.support.catalogue import bearer, course_payload, micro_credential_payload, provider_token
from tests.support.console import HTML, post_form
from tests.support.present import one, present

COURSE = "thermal-management-of-battery-packs"
MC = "thermal-management-basics"


def _actions(session: Session, slug: str) -> list[str]:
    session.rollback()
    return list(
        session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.subject_id == slug)
            .order_by(col(AuditEvent.id))
        )
    )


def _approve_course(reviewing: TestClient, operator: TestClient, auth: dict[str, str]) -> None:
    made = reviewing.post(f"/api/v1/courses/{COURSE}/submit", headers=auth)
    assert made.status_code == 201, made.text
    decided = post_form(
        operator, f"/console/review/{made.json()['id']}/decide", {"decision": "approve"}
    )
    assert decided.status_code == 303, decided.text


def test_a_token_cannot_publish_when_the_hub_reviews(
    reviewing: TestClient, session: Session, demo_skills: None
) -> None:
    auth = bearer(provider_token(session, "volt"))
    published = course_payload(state="published")
    refused = reviewing.post("/api/v1/courses", json=published, headers=auth)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "review_required"
    made = reviewing.post("/api/v1/courses", json=course_payload(), headers=auth)
    assert made.status_code == 201 and made.json()["state"] == "draft"  # the default now
    for attempt in (
        reviewing.post(f"/api/v1/courses/{COURSE}/publish", headers=auth),
        reviewing.put(f"/api/v1/courses/{COURSE}", json=published, headers=auth),
        reviewing.patch(f"/api/v1/courses/{COURSE}", json={"state": "published"}, headers=auth),
        reviewing.patch(f"/api/v1/courses/{COURSE}", json={"state": "submitted"}, headers=auth),
    ):
        assert attempt.status_code == 409, attempt.text
    assert reviewing.get(f"/api/v1/courses/{COURSE}").status_code == 404
    exported = reviewing.get("/api/v1/catalogue/export", headers=auth).json()
    exported["courses"][0]["state"] = "published"
    imported = reviewing.post("/api/v1/catalogue/import", json=exported, headers=auth)
    assert imported.status_code == 409, imported.text
    assert reviewing.get(f"/api/v1/courses/{COURSE}").status_code == 404


def test_submit_request_changes_fix_approve(
    reviewing: TestClient, session: Session, demo_skills: None, operator_as, console_as
) -> None:
    auth = bearer(provider_token(session, "volt"))
    volt = get_organisation(session, "volt")
    operator = operator_as(reviewing, "op@alliance.example")
    assert reviewing.post("/api/v1/courses", json=course_payload(), headers=auth).status_code == 201
    _approve_course(reviewing, operator, auth)
    assert reviewing.get(f"/api/v1/courses/{COURSE}").status_code == 200

    mc = micro_credential_payload(COURSE)
    assert reviewing.post("/api/v1/micro-credentials", json=mc, headers=auth).status_code == 201
    submitted = reviewing.post(
        f"/api/v1/micro-credentials/{MC}/submit", json={"note": "Ready."}, headers=auth
    )
    assert submitted.status_code == 201, submitted.text
    first = submitted.json()
    assert first["state"] == "submitted" and first["entry_state"] == "submitted"
    again = reviewing.post(f"/api/v1/micro-credentials/{MC}/submit", headers=auth)
    assert again.status_code == 409
    edit = reviewing.put(
        f"/api/v1/micro-credentials/{MC}", json=mc | {"title": "Sneaky"}, headers=auth
    )
    assert edit.status_code == 409 and edit.json()["error"]["code"] == "under_review"

    # The provider's own staff: they see the submission, they cannot decide on it.
    issuer = console_as(volt, Role.issuer)
    page = issuer.client.get(f"/console/review/{first['id']}")
    assert page.status_code == 200 and "Ready." in page.text and "Approve" not in page.text
    assert (
        issuer.post(f"/console/review/{first['id']}/decide", {"decision": "approve"}).status_code
        == 403
    )
    # An operator who belongs to the provider does not decide on it either.
    insider = operator_as(reviewing, "insider@volt.example", member_of=volt)
    assert (
        post_form(
            insider, f"/console/review/{first['id']}/decide", {"decision": "approve"}
        ).status_code
        == 403
    )
    assert reviewing.get(f"/api/v1/micro-credentials/{MC}").status_code == 404

    queue = operator.get("/console/review")
    assert "Thermal Management Basics" in queue.text
    nothing = post_form(
        operator, f"/console/review/{first['id']}/decide", {"decision": "request_changes"}
    )
    assert nothing.status_code == 409 and "what should the provider change" in nothing.text
    asked = post_form(
        operator,
        f"/console/review/{first['id']}/decide",
        {"decision": "request_changes", "comment": "Name the cooling standard in the title."},
    )
    assert asked.status_code == 303
    session.rollback()
    stored = session.exec(select(MicroCredential).where(MicroCredential.slug == MC)).one()
    assert stored.state == "changes_requested"

    fixed = reviewing.put(
        f"/api/v1/micro-credentials/{MC}",
        json=mc | {"title": "Thermal Management Basics (ISO 6469)"},
        headers=auth,
    )
    assert fixed.status_code == 200, fixed.text
    second = reviewing.post(f"/api/v1/micro-credentials/{MC}/submit", headers=auth).json()
    view = operator.get(f"/console/review/{second['id']}")
    assert "Name the cooling standard" in view.text  # the earlier conversation
    assert "Thermal Management Basics (ISO 6469)" in view.text
    approved = post_form(
        operator, f"/console/review/{second['id']}/decide", {"decision": "approve"}
    )
    assert approved.status_code == 303
    public = reviewing.get(f"/api/v1/micro-credentials/{MC}")
    assert public.status_code == 200 and public.json()["title"].endswith("(ISO 6469)")
    twice = post_form(operator, f"/console/review/{second['id']}/decide", {"decision": "approve"})
    assert twice.status_code == 409 and "decided meanwhile" in twice.text

    # A published entry's content does not change without another review.
    changed = reviewing.put(
        f"/api/v1/micro-credentials/{MC}", json=mc | {"title": "Unreviewed"}, headers=auth
    )
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "review_required"
    assert _actions(session, MC) == [
        "micro_credential.create",
        "micro_credential.submit",
        "micro_credential.request_changes",
        "micro_credential.update",
        "micro_credential.submit",
        "micro_credential.approve",
    ]
    # The diff of a later submission compares with the approved one.
    assert reviewing.post(f"/api/v1/micro-credentials/{MC}/unpublish", headers=auth).is_success
    edited = mc | {"title": "Thermal Management Basics (ISO 6469)", "ects": 2}
    assert reviewing.put(f"/api/v1/micro-credentials/{MC}", json=edited, headers=auth).is_success
    third = reviewing.post(f"/api/v1/micro-credentials/{MC}/submit", headers=auth).json()
    diff = operator.get(f"/console/review/{third['id']}").text
    assert "What changed since the last approval" in diff
    assert "<code>ects</code>" in diff and "<code>title</code>" not in diff


def test_withdrawing_a_submission_and_review_off(
    client: TestClient, reviewing: TestClient, session: Session, demo_skills: None
) -> None:
    auth = bearer(provider_token(session, "volt"))
    assert reviewing.post("/api/v1/courses", json=course_payload(), headers=auth).status_code == 201
    made = reviewing.post(f"/api/v1/courses/{COURSE}/submit", headers=auth).json()
    back = reviewing.post(f"/api/v1/courses/{COURSE}/unpublish", headers=auth)
    assert back.status_code == 200 and back.json()["state"] == "draft"
    session.rollback()
    assert one(session, Submission, made["id"]).state == "withdrawn"
    # Without the setting (a single-provider hub), the provider publishes itself.
    assert client.post(f"/api/v1/courses/{COURSE}/publish", headers=auth).status_code == 200


def test_job_role_proposal_and_operator_edit(
    reviewing: TestClient, session: Session, demo_skills: None, operator_as, console_as
) -> None:
    auth = bearer(provider_token(session, "volt"))
    role = present(session.exec(select(JobRole).order_by(col(JobRole.id))).first())
    skill_iri = "http://data.europa.eu/esco/skill/" + "nope"
    bad = reviewing.post(
        f"/api/v1/job-roles/{role.slug}/proposals",
        json={"skills": [{"skill": skill_iri}]},
        headers=auth,
    )
    assert bad.status_code == 404
    from catalogue.demo import SKILL_IRIS

    proposal = reviewing.post(
        f"/api/v1/job-roles/{role.slug}/proposals",
        json={
            "skills": [{"skill": SKILL_IRIS["battery design"], "level": "expert"}],
            "note": "Battery design is central now.",
        },
        headers=auth,
    )
    assert proposal.status_code == 201, proposal.text
    operator = operator_as(reviewing, "op@alliance.example")
    issuer = console_as(get_organisation(session, "volt"), Role.issuer)
    assert issuer.client.get("/console/hub/job-roles").status_code == 403
    assert (
        issuer.post(f"/console/hub/job-roles/{role.slug}", {"skill_text": "x"}).status_code == 403
    )
    approved = post_form(
        operator, f"/console/review/{proposal.json()['id']}/decide", {"decision": "approve"}
    )
    assert approved.status_code == 303
    session.rollback()
    [link] = session.exec(select(JobRoleSkill).where(JobRoleSkill.job_role_id == role.id)).all()
    assert link.level == "expert"
    edited = post_form(
        operator,
        f"/console/hub/job-roles/{role.slug}",
        {"skill_text": f"{SKILL_IRIS['battery design']} | awareness | optional\n"},
    )
    assert edited.status_code == 303, edited.text
    session.rollback()
    [link] = session.exec(select(JobRoleSkill).where(JobRoleSkill.job_role_id == role.id)).all()
    assert (link.level, link.essential) == ("awareness", False)
    wrong = post_form(
        operator, f"/console/hub/job-roles/{role.slug}", {"skill_text": "nope | guru"}
    )
    assert wrong.status_code == 422
    assert operator.get(f"/console/hub/job-roles/{role.slug}", headers=HTML).status_code == 200
    assert session.exec(select(MicroCredential)).first() is not None


def test_two_operators_deciding_at_once_end_with_one_decision(
    engine, session: Session, demo_skills: None
) -> None:
    """Compare-and-set on the submission's state: of an approval and a request for changes
    made at the same moment, exactly one wins; the other is told it was decided meanwhile."""
    import threading

    from catalogue import courses, publishing, review
    from catalogue.organisations import create_organisation
    from skillshub.db import session_scope

    org = create_organisation(session, legal_name="Volt", country="DE", slug="volt")
    publishing.require_review(session, True)
    courses.create_course(session, org, course_payload())
    submission_id = pk(review.submit(session, org, "course", COURSE, by="volt"))
    session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(approve: bool) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as mine:
                if approve:
                    review.approve(mine, submission_id, by="op1@alliance.example")
                else:
                    review.request_changes(
                        mine, submission_id, by="op2@alliance.example", comment="Fix it."
                    )
            outcomes.append("approved" if approve else "changes_requested")
        except review.ReviewConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("conflict") == 1, outcomes
    won = next(o for o in outcomes if o != "conflict")
    with session_scope(engine, write=False) as fresh:
        assert one(fresh, Submission, submission_id).state == won
        course = fresh.exec(select(Course).where(Course.slug == COURSE)).one()
        assert course.state == ("published" if won == "approved" else "changes_requested")


def test_a_provider_proposes_job_role_skills_in_the_console(
    session: Session, demo_skills: None, console_as
) -> None:
    from catalogue.demo import SKILL_IRIS

    provider_token(session, "volt")  # the provider organisation
    role = present(session.exec(select(JobRole).order_by(col(JobRole.id))).first())
    issuer = console_as(get_organisation(session, "volt"), Role.issuer)
    path = f"/console/orgs/volt/job-roles/{role.slug}/propose"
    unknown_skill = issuer.post(path, {"skill_text": "no-such-skill | expert"})
    assert unknown_skill.status_code == 422 and "no-such-skill" in unknown_skill.text
    too_many_parts = issuer.post(path, {"skill_text": "a | b | c | d"})
    assert too_many_parts.status_code == 422 and "at most three parts" in too_many_parts.text
    unknown_role = issuer.post(
        "/console/orgs/volt/job-roles/no-such-role/propose",
        {"skill_text": f"{SKILL_IRIS['battery design']} | expert"},
    )
    assert unknown_role.status_code == 404
    assert session.exec(select(Submission)).first() is None
    proposed = issuer.post(path, {"skill_text": f"{SKILL_IRIS['battery design']} | expert"})
    assert proposed.status_code == 303 and "notice=proposed" in proposed.headers["location"]
    session.rollback()
    assert session.exec(select(Submission)).first() is not None
