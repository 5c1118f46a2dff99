"""Reviews by graduates (issue 20), on both databases: only a browser holding a valid badge
reviews the course, once per credential, editable and withdrawable; anonymous unless chosen;
the provider answers, an operator hides abuse (audited); the catalogue shows the average and
search sorts by it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts.models import AuditEvent
from accounts.roles import Role
from catalogue import search
from catalogue.base import pk
from catalogue.models import Course, CourseReview
from skillshub.settings import Settings
from tests.badges.sharing.test_learner import _claim, _claim_link, _issue, _outbox
from tests.support.console import post_form
from tests.support.csrf import csrf_fields
from tests.support.present import one
from tests.support.world import World, make_world

HTML = {"accept": "text/html"}


def _holder(client: TestClient, world: World, settings: Settings) -> tuple[TestClient, str]:
    """A browser that claimed a fresh badge of the world's micro-credential."""
    out = _issue(client, world)
    browser = TestClient(client.app)
    _claim(browser, _claim_link(_outbox(settings)[-1]))
    return browser, out["id"]


def _review(browser: TestClient, credential_id: str, **fields: str):
    form = {"rating": "5", "text": "Hands-on and well paced."} | fields
    return browser.post(
        f"/credentials/{credential_id}/manage/review",
        data=form | csrf_fields(browser),
        follow_redirects=False,
    )


def _course_page(client: TestClient, world: World, session: Session) -> str:
    course = one(session, Course, world.mc.course_id)
    page = client.get(f"/courses/{course.slug}", headers=HTML)
    assert page.status_code == 200, page.text
    return page.text


def test_a_graduate_reviews_edits_and_withdraws(
    client: TestClient, session: Session, master_key: str, settings: Settings
) -> None:
    world = make_world(session, master_key)
    session.commit()
    browser, credential_id = _holder(client, world, settings)
    manage = browser.get(f"/credentials/{credential_id}/manage", headers=HTML)
    assert f"/credentials/{credential_id}/manage/review" in manage.text
    form = browser.get(f"/credentials/{credential_id}/manage/review", headers=HTML)
    assert form.status_code == 200 and "from a verified graduate" in form.text
    assert _review(browser, credential_id, rating="9").status_code == 422
    assert _review(browser, credential_id, text="x" * 1001).status_code == 422
    assert _review(browser, credential_id).status_code == 303
    page = _course_page(client, world, session)
    assert "Hands-on and well paced." in page and "from a verified graduate" in page
    assert "5.0 out of 5" in page and "Ada Lovelace" not in page

    assert _review(browser, credential_id, rating="3", show_name="1").status_code == 303
    page = _course_page(client, world, session)
    assert "3.0 out of 5" in page and "Ada Lovelace" in page
    session.rollback()
    assert len(session.exec(select(CourseReview)).all()) == 1  # one per credential

    # A second graduate: the average counts both.
    other, other_id = _holder(client, world, settings)
    assert _review(other, other_id, rating="5", text="").status_code == 303
    assert "4.0 out of 5" in _course_page(client, world, session)

    withdrawn = browser.post(
        f"/credentials/{credential_id}/manage/review/withdraw",
        data=csrf_fields(browser),
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    page = _course_page(client, world, session)
    assert "Hands-on" not in page and "5.0 out of 5" in page and "from 1 review" in page


def test_no_review_without_a_valid_badge(
    client: TestClient, session: Session, master_key: str, settings: Settings, engine: Engine
) -> None:
    world = make_world(session, master_key)
    session.commit()
    browser, credential_id = _holder(client, world, settings)
    stranger = TestClient(client.app)
    stranger.get("/")
    assert _review(stranger, credential_id).status_code == 403
    assert stranger.get(f"/credentials/{credential_id}/manage/review").status_code == 403
    revoked = client.post(
        f"/api/v1/credentials/{credential_id}/revoke",
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert revoked.status_code == 200
    refused = _review(browser, credential_id)
    assert refused.status_code == 403 and "revoked" in refused.text
    session.rollback()
    assert session.exec(select(CourseReview)).all() == []


def test_provider_answers_operator_hides_and_search_sorts(
    client: TestClient,
    session: Session,
    master_key: str,
    settings: Settings,
    console_as,
    operator_as,
) -> None:
    world = make_world(session, master_key)
    other = make_world(session, master_key, slug="ampere")
    one(session, Course, other.mc.course_id).title = "Alternating current basics"
    for each in (world, other):  # make_world writes rows, not search documents
        search.index(session, "course", [each.mc.course_id])
        search.index(session, "micro_credential", [pk(each.mc)])
    session.commit()
    browser, credential_id = _holder(client, world, settings)
    assert _review(browser, credential_id, text="Great labs.").status_code == 303
    session.rollback()
    review = session.exec(select(CourseReview)).one()

    stranger = console_as(other.org, Role.owner)
    refused = stranger.post(
        f"/console/orgs/{other.org.slug}/reviews/{review.id}/answer", {"text": "Ha."}
    )
    assert refused.status_code == 404
    viewer = console_as(world.org, Role.viewer)
    assert (
        viewer.post(
            f"/console/orgs/{world.org.slug}/reviews/{review.id}/answer", {"text": "Thanks"}
        ).status_code
        == 403
    )
    issuer = console_as(world.org, Role.issuer)
    listed = issuer.client.get(f"/console/orgs/{world.org.slug}/reviews")
    assert "Great labs." in listed.text
    answered = issuer.post(
        f"/console/orgs/{world.org.slug}/reviews/{review.id}/answer",
        {"text": "Thank you, see you in the advanced course."},
    )
    assert answered.status_code == 303
    assert "see you in the advanced course" in _course_page(client, world, session)
    # A provider cannot hide a review; an operator can, with a reason, audited.
    assert (
        issuer.post(
            f"/console/hub/reviews/{review.id}/hide", {"reason": "I dislike it"}
        ).status_code
        == 403
    )
    operator = operator_as(client, "op@alliance.example")
    hidden = post_form(operator, f"/console/hub/reviews/{review.id}/hide", {"reason": "Spam"})
    assert hidden.status_code == 303
    page = _course_page(client, world, session)
    assert "Great labs." not in page and "No review yet" in page
    session.rollback()
    actions = session.exec(
        select(AuditEvent.action)
        .where(AuditEvent.subject_type == "course_review")
        .order_by(col(AuditEvent.id))
    ).all()
    assert actions == ["review.answer", "review.hide"]
    shown = post_form(operator, f"/console/hub/reviews/{review.id}/show")
    assert shown.status_code == 303

    # Search by rating: the reviewed course first, though "ampere" sorts first by title.
    found = client.get("/api/v1/search", params={"kind": "course", "sort": "rating"}).json()
    assert [h["slug"] for h in found["items"]][:2] == ["voltacademy-course", "ampere-course"]
    assert found["items"][0]["rating"] == 5.0 and found["items"][0]["reviews"] == 1
    by_title = client.get("/api/v1/search", params={"kind": "course"}).json()
    assert [h["slug"] for h in by_title["items"]][:2] == ["ampere-course", "voltacademy-course"]
    mcs = client.get("/api/v1/search", params={"kind": "micro_credential", "sort": "rating"}).json()
    assert mcs["items"][0]["slug"] == world.mc.slug and mcs["items"][0]["rating"] == 5.0
    assert client.get("/api/v1/search", params={"sort": "stars"}).status_code == 422
    html = client.get("/search", params={"kind": "course", "sort": "rating"}, headers=HTML)
    assert "5.0 out of 5 from 1 graduate" in html.text
