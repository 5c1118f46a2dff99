"""The catalogue editor through real HTTP on both databases: drafts and publishing (public
pages, search, listings and issuing see published entries only), every form problem at once
next to its field, bad images refused without losing the form, lower roles refused by every
route, CSRF, audit events; and the JSON API answering every problem at once."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts.models import AuditEvent
from accounts.roles import Role
from badges.models import BadgeImage
from badges.sharing import images
from catalogue.demo import SKILL_IRIS, load_demo_catalogue
from catalogue.models import Course, MicroCredential
from tests.support.catalogue import bearer, micro_credential_payload
from tests.support.console import HTML, ConsoleLogin
from tests.support.present import one
from tests.support.world import World, make_world

Login = Callable[..., ConsoleLogin]


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    world = make_world(session, master_key)
    load_demo_catalogue(session)  # ESCO skills with search documents
    session.commit()
    return world


def _course(session: Session, world: World) -> Course:
    course = session.get(Course, world.mc.course_id)
    assert course is not None
    return course


def _form(course: str, **changes: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Battery pack safety",
        "course": course,
        "description": "Works safely on high-voltage packs.",
        "learning_outcomes.1.text": "Isolates a battery pack before work.",
        "learning_outcomes.1.skills": [SKILL_IRIS["battery design"], "battery-chemistry"],
        "learning_outcomes.2.text": "Explains how a battery management system protects cells.",
        "learning_outcomes.2.skills": [SKILL_IRIS["battery management systems"]],
        "eqf_level": "5",
        "workload_hours": "40",
        "ects": "1.5",
        "mode": "blended",
        "assessment_type": "practical-assessment",
        "quality_assurance": "institutional-quality-assurance",
        "supervision": "supervised-with-id",
        "grade_scheme": "pass/fail",
        "prerequisites": "Electrical basics.",
        "languages": ["en", "de"],
        "valid_for_months": "24",
        "maximum_duration": "P6M",
        "quality_assurance_body.name": "Example Quality Agency",
        "quality_assurance_body.country": "",
        "quality_assurance_body.homepage": "https://quality.example",
        "action": "save",
    }
    data.update(changes)
    return data


def _mc(engine: Engine, slug: str) -> MicroCredential | None:
    with Session(engine) as fresh:
        return fresh.exec(select(MicroCredential).where(MicroCredential.slug == slug)).first()


def _actions(engine: Engine) -> list[str]:
    with Session(engine) as fresh:
        return [e.action for e in fresh.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]


def _count(engine: Engine) -> int:
    with Session(engine) as fresh:
        return len(fresh.exec(select(MicroCredential.id)).all())


def test_a_draft_is_the_providers_until_it_is_published(
    client: TestClient, console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    org = world.org.slug
    created = issuer.post(
        f"/console/orgs/{org}/micro-credentials/new", _form(_course(session, world).slug)
    )
    assert created.status_code == 303, created.text
    assert "notice=mc_saved" in created.headers["location"]
    mc = _mc(engine, "battery-pack-safety")
    assert mc is not None and mc.state == "draft"
    assert (mc.eqf_level, mc.workload_hours, mc.ects, mc.mode) == (5, 40, 1.5, "blended")
    assert mc.languages == ["en", "de"] and mc.valid_for_months == 24
    assert mc.maximum_duration == "P6M"
    assert (mc.quality_assurance_body_name, mc.quality_assurance_body_country) == (
        "Example Quality Agency",
        mc.country,  # empty: the awarding body's
    )
    assert mc.quality_assurance_body_homepage == "https://quality.example"
    assert mc.quality_assurance_body_uri is None

    # Not public: page, JSON-LD, API, listings, search; not issued.
    assert client.get("/micro-credentials/battery-pack-safety", headers=HTML).status_code == 404
    assert client.get("/api/v1/micro-credentials/battery-pack-safety").status_code == 404
    listed = client.get("/api/v1/micro-credentials", params={"provider": org}).json()
    assert "battery-pack-safety" not in [i["slug"] for i in listed["items"]]
    found = client.get("/api/v1/search", params={"q": "battery pack safety"}).json()
    assert "battery-pack-safety" not in [h["slug"] for h in found["items"]]
    refused = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": mc.slug, "name": "Ada", "email": "ada@example.org"},
        headers=bearer(world.token),
    )
    assert refused.status_code == 409, refused.text
    assert "is a draft: publish it before issuing it" in refused.json()["error"]["message"]

    # The provider sees it in the console.
    page = issuer.client.get(f"/console/orgs/{org}/catalogue")
    assert 'id="mc-battery-pack-safety"' in page.text and "draft" in page.text

    published = issuer.post(f"/console/orgs/{org}/micro-credentials/battery-pack-safety/publish")
    assert published.status_code == 303 and "notice=mc_published" in published.headers["location"]
    assert client.get("/micro-credentials/battery-pack-safety", headers=HTML).status_code == 200
    found = client.get("/api/v1/search", params={"q": "battery pack safety"}).json()
    assert "battery-pack-safety" in [h["slug"] for h in found["items"]]
    issued = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": mc.slug, "name": "Ada", "email": "ada@example.org"},
        headers=bearer(world.token),
    )
    assert issued.status_code == 201, issued.text
    view = client.get("/api/v1/micro-credentials/battery-pack-safety").json()
    assert [len(o["skills"]) for o in view["learning_outcomes"]] == [2, 1]
    assert view["state"] == "published"

    # Unpublished after issuing: out of listings, but the achievement id still answers.
    issuer.post(f"/console/orgs/{org}/micro-credentials/battery-pack-safety/unpublish")
    found = client.get("/api/v1/search", params={"q": "battery pack safety"}).json()
    assert "battery-pack-safety" not in [h["slug"] for h in found["items"]]
    kept = client.get("/micro-credentials/battery-pack-safety", headers=HTML)
    assert kept.status_code == 200 and "Not offered at the moment" in kept.text
    # (The API's issue between them is audited too: credential.issue.)
    assert [a for a in _actions(engine) if a.startswith("micro_credential.")][-3:] == [
        "micro_credential.create",
        "micro_credential.publish",
        "micro_credential.unpublish",
    ]


def test_every_problem_is_shown_at_once_next_to_its_field(
    console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    before = _count(engine)
    form = _form(
        _course(session, world).slug,
        title="",
        eqf_level="9",
        workload_hours="lots",
        mode="",
        assessment_type="coin toss",
        valid_for_days="30",
        maximum_duration="six months",
        description="Kept as typed",
    )
    form["quality_assurance_body.id"] = "no uri"
    form["learning_outcomes.2.skills"] = ["http://example.org/no-such-skill"]
    answer = issuer.post(f"/console/orgs/{world.org.slug}/micro-credentials/new", form)
    assert answer.status_code == 422, answer.text
    assert _count(engine) == before
    summary = re.findall(r'<li><a href="#(f-[\w-]+)">', answer.text)
    assert {"f-title", "f-eqf_level", "f-workload_hours", "f-mode", "f-assessment_type"} <= set(
        summary
    )
    assert "f-valid_for_days" in summary and "f-learning_outcomes" in summary
    assert "f-maximum_duration" in summary and "write e.g. P6M" in answer.text
    assert 'value="six months"' in answer.text
    assert "f-quality_assurance_body-id" in summary
    assert "Identifier (URI) of the quality-assurance body" in answer.text  # in the summary
    for field in ("title", "eqf_level", "workload_hours", "mode", "assessment_type"):
        control = re.search(rf'<(?:input|select|textarea)[^>]* id="f-{field}"[^>]*>', answer.text)
        assert control is not None, field
        assert f"f-{field}-error" in control.group(0) and 'aria-invalid="true"' in control.group(0)
        assert f'id="f-{field}-error"' in answer.text
    assert 'role="alert"' in answer.text and "nothing was saved" in answer.text
    assert "Kept as typed" in answer.text  # nothing typed is lost
    assert "Isolates a battery pack before work." in answer.text
    assert "battery design" in answer.text  # chosen skills shown with their labels


def test_outcome_rows_and_skill_search_work_without_script(
    console_as: Login, world: World, session: Session
) -> None:
    issuer = console_as(world.org, Role.issuer)
    url = f"/console/orgs/{world.org.slug}/micro-credentials/new"
    added = issuer.post(url, _form(_course(session, world).slug, action="add_outcome"))
    assert added.status_code == 200
    assert 'name="learning_outcomes.3.text"' in added.text
    removed = issuer.post(url, _form(_course(session, world).slug, action="remove_outcome:1"))
    assert 'name="learning_outcomes.2.text"' not in removed.text
    assert "Explains how a battery management system" in removed.text
    form = _form(_course(session, world).slug, action="find:2")
    form["learning_outcomes.2.q"] = "battery chem"
    found = issuer.post(url, form)
    assert found.status_code == 200
    assert re.search(
        r'<input type="checkbox" name="learning_outcomes.2.skills" value="[^"]+"> '
        r"battery chemistry",
        found.text,
    )


def _png(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), "navy").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * (images.MAX_UPLOAD_BYTES + 10), "too large"),
        (b"%PDF-1.7 not an image", "not a PNG or SVG image"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "elements are not allowed in a badge image",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
            "event handler",
        ),
    ],
    ids=["oversized", "not-an-image", "svg-script", "svg-onload"],
)
def test_a_bad_image_is_refused_next_to_its_field_and_nothing_is_lost(
    console_as: Login, world: World, session: Session, engine: Engine, content: bytes, problem: str
) -> None:
    issuer = console_as(world.org, Role.issuer)
    before = _count(engine)
    answer = issuer.client.post(
        f"/console/orgs/{world.org.slug}/micro-credentials/new",
        data={**_form(_course(session, world).slug), **_csrf(issuer)},
        files={"badge_image": ("badge.svg", content, "image/svg+xml")},
        follow_redirects=False,
    )
    assert answer.status_code == 422, answer.text
    assert _count(engine) == before
    error = re.search(r'id="f-badge_image-error">(.*?)</span>\s*$', answer.text, re.M | re.S)
    assert error is not None and problem in answer.text
    control = re.search(r'<input type="file" id="f-badge_image"[^>]*>', answer.text)
    assert control is not None and "f-badge_image-error" in control.group(0)
    assert "Battery pack safety" in answer.text and "Electrical basics." in answer.text


def _csrf(login: ConsoleLogin) -> dict[str, str]:
    from tests.support.csrf import csrf_fields

    return csrf_fields(login.client)


def test_an_uploaded_png_becomes_the_badge_image(
    console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    answer = issuer.client.post(
        f"/console/orgs/{world.org.slug}/micro-credentials/new",
        data={**_form(_course(session, world).slug, action="publish"), **_csrf(issuer)},
        files={"badge_image": ("badge.png", _png(), "application/octet-stream")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    mc = _mc(engine, "battery-pack-safety")
    assert mc is not None and mc.state == "published"
    with Session(engine) as fresh:
        stored = fresh.exec(select(BadgeImage).where(BadgeImage.micro_credential_id == mc.id)).one()
    assert stored.media_type == "image/png" and mc.badge_image_url is not None
    edit = issuer.client.get(f"/console/orgs/{world.org.slug}/micro-credentials/{mc.slug}/edit")
    assert f'src="/micro-credentials/{mc.slug}/image"' in edit.text
    assert "img-src 'self' data: blob:" in edit.headers["content-security-policy"]


def test_editing_keeps_every_element_and_records_it(
    console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    org = world.org.slug
    issuer.post(f"/console/orgs/{org}/micro-credentials/new", _form(_course(session, world).slug))
    page = issuer.client.get(f"/console/orgs/{org}/micro-credentials/battery-pack-safety/edit")
    assert page.status_code == 200
    assert '<option value="5" selected>Level 5</option>' in page.text
    assert '<option value="blended" selected>Blended</option>' in page.text
    assert 'value="P6M"' in page.text  # the maximum duration, to edit
    assert 'value="Example Quality Agency"' in page.text
    assert "practical assessment</option>" in page.text  # vocabularies by their labels
    changed = issuer.post(
        f"/console/orgs/{org}/micro-credentials/battery-pack-safety/edit",
        _form(_course(session, world).slug, title="Battery pack safety II", eqf_level="6"),
    )
    assert changed.status_code == 303, changed.text
    mc = _mc(engine, "battery-pack-safety")
    assert mc is not None and (mc.title, mc.eqf_level, mc.state) == (
        "Battery pack safety II",
        6,
        "draft",
    )
    assert _actions(engine)[-2:] == ["micro_credential.create", "micro_credential.update"]


def test_courses_are_drafted_and_published_before_their_micro_credentials(
    console_as: Login, world: World, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    org = world.org.slug
    created = issuer.post(
        f"/console/orgs/{org}/courses/new",
        {
            "title": "Cell chemistry",
            "mode": "online",
            "country": "DE",
            "languages": ["en"],
            "eqf_level": "4",
            "workload_hours": "12",
            "price.amount": "99.50",
            "price.currency": "EUR",
            "start_dates": ["2027-03-01", ""],
            "skills": [SKILL_IRIS["battery chemistry"]],
            f"skill_level.{SKILL_IRIS['battery chemistry']}": "expert",
            "action": "save",
        },
    )
    assert created.status_code == 303, created.text
    with Session(engine) as fresh:
        course = fresh.exec(select(Course).where(Course.slug == "cell-chemistry")).one()
    assert course.state == "draft" and course.price_cents == 9950
    assert course.start_dates == ["2027-03-01"]
    refused = issuer.post(
        f"/console/orgs/{org}/micro-credentials/new", _form("cell-chemistry", action="publish")
    )
    assert refused.status_code == 422 and "publish the course first" in refused.text
    assert (
        issuer.post(
            f"/console/orgs/{org}/micro-credentials/new", _form("cell-chemistry")
        ).status_code
        == 303
    )
    issuer.post(f"/console/orgs/{org}/courses/cell-chemistry/publish")
    issuer.post(f"/console/orgs/{org}/micro-credentials/battery-pack-safety/publish")
    back = issuer.post(f"/console/orgs/{org}/courses/cell-chemistry/unpublish")
    assert back.status_code == 409 and "unpublish them first" in back.text
    assert "course.create" in _actions(engine) and "course.publish" in _actions(engine)


ROUTES = [
    ("GET", "/console/orgs/{org}/micro-credentials/new"),
    ("GET", "/console/orgs/{org}/micro-credentials/{mc}/edit"),
    ("GET", "/console/orgs/{org}/courses/new"),
    ("GET", "/console/orgs/{org}/courses/{course}/edit"),
    ("POST", "/console/orgs/{org}/micro-credentials/new"),
    ("POST", "/console/orgs/{org}/micro-credentials/{mc}/edit"),
    ("POST", "/console/orgs/{org}/micro-credentials/{mc}/publish"),
    ("POST", "/console/orgs/{org}/micro-credentials/{mc}/unpublish"),
    ("POST", "/console/orgs/{org}/courses/new"),
    ("POST", "/console/orgs/{org}/courses/{course}/edit"),
    ("POST", "/console/orgs/{org}/courses/{course}/publish"),
    ("POST", "/console/orgs/{org}/courses/{course}/unpublish"),
]


def test_a_viewer_reads_the_catalogue_and_is_refused_every_change(
    console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    viewer = console_as(world.org, Role.viewer)
    listing = viewer.client.get(f"/console/orgs/{world.org.slug}/catalogue")
    assert listing.status_code == 200 and world.mc.title in listing.text
    assert "/edit" not in listing.text and "New micro-credential" not in listing.text
    names = {"org": world.org.slug, "mc": world.mc.slug, "course": _course(session, world).slug}
    before = (_count(engine), _actions(engine))
    for method, path in ROUTES:
        url = path.format(**names)
        if method == "GET":
            answer = viewer.client.get(url)
        else:
            answer = viewer.post(url, _form(names["course"], action="publish"))
        assert answer.status_code == 403, (method, url, answer.status_code)
        assert "needs the issuer role" in answer.text, url
    assert (_count(engine), _actions(engine)) == before
    with Session(engine) as fresh:
        assert one(fresh, MicroCredential, world.mc.id).state == "published"


def test_another_organisations_members_are_refused(
    console_as: Login, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherorg")
    outsider = console_as(other.org, Role.owner)
    names = {"org": world.org.slug, "mc": world.mc.slug, "course": _course(session, world).slug}
    assert outsider.client.get(f"/console/orgs/{world.org.slug}/catalogue").status_code == 403
    preview = f"/console/orgs/{world.org.slug}/badge-preview.png?title=x"
    assert outsider.client.get(preview).status_code == 403
    assert console_as(world.org, Role.viewer).client.get(preview).headers["content-type"] == (
        "image/png"
    )
    for method, path in ROUTES:
        url = path.format(**names)
        answer = outsider.client.get(url) if method == "GET" else outsider.post(url, {})
        assert answer.status_code == 403, url
    # Their own organisation's URL with our micro-credential: not theirs to edit.
    theirs = outsider.client.get(
        f"/console/orgs/{other.org.slug}/micro-credentials/{world.mc.slug}/edit"
    )
    assert theirs.status_code == 403


def test_forms_need_their_csrf_token(
    console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    issuer = console_as(world.org, Role.issuer)
    before = _count(engine)
    forged = issuer.client.post(
        f"/console/orgs/{world.org.slug}/micro-credentials/new",
        data=_form(_course(session, world).slug),
        follow_redirects=False,
    )
    assert forged.status_code == 403
    cross_site = issuer.client.post(
        f"/console/orgs/{world.org.slug}/micro-credentials/{world.mc.slug}/unpublish",
        data=_csrf(issuer),
        headers={**HTML, "origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    assert _count(engine) == before
    with Session(engine) as fresh:
        assert one(fresh, MicroCredential, world.mc.id).state == "published"


def test_the_api_answers_every_problem_at_once(
    client: TestClient, world: World, session: Session
) -> None:
    body = {
        "course": _course(session, world).slug,
        "title": "",
        "learning_outcomes": [{"text": "ok", "skills": ["http://example.org/nope"]}],
        "eqf_level": "nine",
        "mode": "by carrier pigeon",
        "assessment_type": "coin toss",
        "quality_assurance": "institutional-quality-assurance",
        "workload_hours": -3,
        "colour": "blue",
    }
    answer = client.post("/api/v1/micro-credentials", json=body, headers=bearer(world.token))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    fields = {e["field"] for e in error["details"]["errors"]}
    assert {
        "title",
        "eqf_level",
        "mode",
        "assessment_type",
        "workload_hours",
        "colour",
        "learning_outcomes",
    } <= fields, fields
    assert error["message"].startswith(f"{len(error['details']['errors'])} problems: ")
    put = client.put(
        f"/api/v1/micro-credentials/{world.mc.slug}", json=body, headers=bearer(world.token)
    )
    assert put.status_code == 422 and len(put.json()["error"]["details"]["errors"]) >= 6
    course = client.post(
        "/api/v1/courses",
        json={"title": "", "mode": "nope", "eqf_level": 12, "url": "ftp://x", "ects": -1},
        headers=bearer(world.token),
    )
    assert course.status_code == 422
    assert {"title", "mode", "eqf_level", "url", "ects"} <= {
        e["field"] for e in course.json()["error"]["details"]["errors"]
    }


def test_drafts_through_the_api(client: TestClient, world: World, session: Session) -> None:
    world.mc.state = "draft"  # the world's own one (its test codes are no vocabulary's)
    session.add(world.mc)
    session.commit()
    made = client.post(
        "/api/v1/micro-credentials",
        json=micro_credential_payload(_course(session, world).slug),
        headers=bearer(world.token),
    )
    assert made.status_code == 201 and made.json()["state"] == "published"
    url = f"/api/v1/micro-credentials/{made.json()['slug']}"
    down = client.post(f"{url}/unpublish", headers=bearer(world.token))
    assert down.status_code == 200 and down.json()["state"] == "draft"
    assert client.get(url).status_code == 404
    course = _course(session, world).slug
    assert client.get(f"/api/v1/courses/{course}").json()["micro_credentials"] == []
    draft_course = client.post(f"/api/v1/courses/{course}/unpublish", headers=bearer(world.token))
    assert draft_course.status_code == 200
    assert client.get(f"/api/v1/courses/{course}").status_code == 404
    refused = client.post(f"{url}/publish", headers=bearer(world.token))
    assert refused.status_code == 409 and "publish the course first" in refused.text
    assert (
        client.post(f"/api/v1/courses/{course}/publish", headers=bearer(world.token)).status_code
        == 200
    )
    assert client.post(f"{url}/publish", headers=bearer(world.token)).json()["state"] == "published"
