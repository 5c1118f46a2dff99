"""The backpack through the real app (both databases): sign-in by e-mail link, my badges from
two providers with their states, ownership of the badge pages, import (valid, refused,
twice), share (profile, collections, zip), leave (erasure that keeps revocation working),
and the skills gap from the backpack."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from accounts.models import AuditEvent
from backpack.models import BackpackItem, Learner, LearnerLink, LearnerSession
from badges import baking
from badges.models import ClaimToken, IssuedCredential
from catalogue.base import pk
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.backpack.support import ask_link, issue, sign_in, sign_in_links, token_of
from tests.badges.sharing.test_learner import _outbox
from tests.support import own
from tests.support.csrf import csrf_fields
from tests.support.mail_language import after_greeting, until_words
from tests.support.present import one, present
from tests.support.world import World, make_world

EMAIL = "ada.lovelace@example.org"
BROWSER = {"accept": "text/html"}


def _form(client: TestClient, path: str, data: dict | None = None, **kw):
    return client.post(path, data=(data or {}) | csrf_fields(client), follow_redirects=False, **kw)


@pytest.fixture
def second(session: Session, master_key: str) -> World:
    return make_world(session, master_key, slug="gridschool")


def _external_badge(name: str = "Heat pump installation") -> tuple[dict, own.Signer]:
    signer = own.Signer.ed25519()
    document = own.credential(signer.did, name=name)
    document["issuer"]["name"] = "Faraway Institute"
    return signer.data_integrity(document), signer


# --- sign-in -------------------------------------------------------------------------------


def test_sign_in_by_link_once_and_the_same_answer_for_every_address(
    client: TestClient, settings: Settings, session: Session
) -> None:
    german = client.get("/backpack/sign-in", params={"lang": "de"})
    assert "Mit Ihrer E-Mail-Adresse anmelden" in german.text
    client.get("/backpack/sign-in", params={"lang": "en"})
    first = ask_link(client, EMAIL)
    assert first.status_code == 200 and "Check your e-mail" in first.text
    links = sign_in_links(settings)
    assert [to for to, _ in links] == [EMAIL]
    assert session.exec(select(Learner)).all() == []  # asking makes no account

    link = links[-1][1]
    done = _form(client, "/backpack/sign-in/link", {"token": token_of(link)})
    assert done.status_code == 303
    page = client.get("/backpack", headers=BROWSER)
    assert page.status_code == 200 and "Signed in as ada.lovelace@example.org" in page.text
    # Single use.
    again = _form(client, "/backpack/sign-in/link", {"token": token_of(link)})
    assert again.status_code == 404 and "used already" in again.text
    # Malformed address: a message next to the field, no mail.
    bad = ask_link(client, "not-an-address")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert len(sign_in_links(settings)) == 1
    # An address with an account and one without get the same answer (and each a mail).
    known, unknown = ask_link(client, EMAIL), ask_link(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert _sent(known.text, EMAIL) == _sent(unknown.text, "nobody@example.org")
    assert [to for to, _ in sign_in_links(settings)][1:] == [EMAIL, "nobody@example.org"]


def _sent(page: str, email: str) -> str:
    start = page.index('id="sent"')
    return page[start : page.index("</div>", start)].replace(email, "ADDRESS")


@pytest.mark.parametrize(
    ("switch", "language", "subject", "opening", "ignore"),
    [
        (
            None,
            "en",
            "Sign in to your Skills Hub backpack",
            "Open this link to sign in to your Skills Hub backpack, where you find every badge "
            "awarded to this address. It works once, until {until}:",
            "If you did not ask for it, ignore this e-mail: nobody can sign in without it.",
        ),
        (
            "de",
            "de",
            "Bei Ihrer Badge-Sammlung auf Skills Hub anmelden",
            "Öffnen Sie diesen Link, um sich bei Ihrer Badge-Sammlung auf Skills Hub anzumelden, "
            "wo Sie jedes an diese Adresse verliehene Badge finden. Der Link gilt einmal, bis "
            "zum {until}:",
            "Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail",
        ),
    ],
    ids=["en", "de"],
)
def test_the_sign_in_email_speaks_the_language_of_the_sign_in_page(
    client: TestClient,
    settings: Settings,
    session: Session,
    switch: str | None,
    language: str,
    subject: str,
    opening: str,
    ignore: str,
) -> None:
    if switch:  # the page's language switch, remembered in a cookie
        assert client.get("/backpack/sign-in", params={"lang": switch}).status_code == 200
    assert ask_link(client, EMAIL).status_code == 200
    [message] = _outbox(settings)
    assert message["Subject"] == subject and message["Content-Language"] == language
    [row] = session.exec(select(LearnerLink)).all()
    words = opening.format(until=until_words(row.expires_at, language))
    text, html = after_greeting(message, language)
    assert text.startswith(words + "\n\nhttp://testserver/backpack/sign-in/link?token=")
    assert ignore in text and ignore in html and words in html


def test_links_expire_and_a_new_one_ends_the_old(
    client: TestClient, settings: Settings, session: Session
) -> None:
    ask_link(client, EMAIL)
    ask_link(client, EMAIL)
    (_, first), (_, second_link) = sign_in_links(settings)
    assert _form(client, "/backpack/sign-in/link", {"token": token_of(first)}).status_code == 404
    row = session.exec(select(LearnerLink).where(LearnerLink.used_at == None)).all()  # noqa: E711
    live = [r for r in row if r.expires_at > datetime.now(UTC)]
    assert len(live) == 1
    live[0].expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.add(live[0])
    session.commit()
    expired = _form(client, "/backpack/sign-in/link", {"token": token_of(second_link)})
    assert expired.status_code == 404 and "expired" in expired.text


def test_mails_per_address_are_limited_and_the_answer_stays_the_same(
    settings: Settings, engine
) -> None:
    tight = settings.model_copy(update={"rate_limit_backpack_sign_in_email": "2/hour"})
    with TestClient(create_app(tight, engine=engine)) as client:
        answers = [ask_link(client, EMAIL) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert all("Check your e-mail" in a.text for a in answers)
        assert len(sign_in_links(tight)) == 2


def test_sessions_are_listed_and_ended_everywhere(
    client: TestClient, settings: Settings, session: Session, engine
) -> None:
    sign_in(client, settings, EMAIL)
    with TestClient(create_app(settings, engine=engine)) as other:
        sign_in(other, settings, EMAIL)
        listed = client.get("/backpack/sessions")
        assert listed.status_code == 200 and listed.text.count("data-session=") == 2
        assert "(this browser)" in listed.text
        # One by one: the other browser's session ends; a session id not yours is 404.
        rows = session.exec(select(LearnerSession).order_by(col(LearnerSession.id))).all()
        other_id = pk(rows[1])
        session.rollback()  # SQLite's WAL: later reads in a new transaction
        assert _form(client, f"/backpack/sessions/{other_id}/end").status_code == 303
        assert other.get("/backpack/sessions", follow_redirects=False).status_code == 303
        assert _form(client, f"/backpack/sessions/{other_id + 100}/end").status_code == 404
        sign_in(other, settings, EMAIL)
        ended = _form(client, "/backpack/sessions/end-all")
        assert ended.status_code == 303
        session.rollback()
        assert session.exec(select(LearnerSession)).all() == []
        assert other.get("/backpack/sessions", follow_redirects=False).status_code == 303
    assert "Sign in with your e-mail address" in client.get("/backpack").text


# --- my badges -----------------------------------------------------------------------------


def test_badges_from_two_providers_in_one_place_with_their_states(
    client: TestClient, settings: Settings, session: Session, world: World, second: World
) -> None:
    first_id = issue(client, world, "Ada.Lovelace@Example.org")  # the issuer's own spelling
    second_id = issue(client, second, EMAIL)
    stranger_id = issue(client, world, "grace@example.org", name="Grace Hopper")
    revoked = client.post(
        f"/api/v1/credentials/{second_id}/revoke",
        json={"reason": "issued in error"},
        headers={"authorization": f"Bearer {second.token}"},
    )
    assert revoked.status_code == 200, revoked.text

    sign_in(client, settings, EMAIL)
    page = client.get("/backpack")
    assert page.status_code == 200
    assert f'data-badge="{first_id}" data-status="valid"' in page.text
    assert f'data-badge="{second_id}" data-status="revoked"' in page.text
    assert "Reason given: issued in error." in page.text
    assert stranger_id not in page.text
    assert "Gridschool Badges" in page.text and "Voltacademy Badges" in page.text

    # The badge pages are the learner's without a claim link.
    manage = client.get(f"/credentials/{first_id}/manage")
    assert manage.status_code == 200 and "Share settings" in manage.text
    assert client.get(f"/credentials/{stranger_id}/manage").status_code == 403
    # Europass: the learner is let through (this world's micro-credential lacks what an EDC
    # needs, so the export itself answers what is missing); a stranger is not.
    europass = client.get(f"/credentials/{first_id}/europass")
    assert europass.status_code == 422 and europass.json()["error"]["code"] != "unauthorized"
    assert client.get(f"/credentials/{stranger_id}/europass").status_code == 401

    # One step: every badge of the address into the backpack; the issuer sees "claimed".
    assert _form(client, "/backpack/claim").status_code == 303
    page = client.get("/backpack")
    assert page.text.count("data-manage") == 2
    assert f'href="/credentials/{first_id}/manage" data-manage' in page.text
    claimed = session.exec(select(IssuedCredential).where(IssuedCredential.uuid == first_id))
    assert claimed.one().claimed_at is not None
    # Again: still one row each.
    assert _form(client, "/backpack/claim", {"credential": first_id}).status_code == 303
    assert len(session.exec(select(BackpackItem)).all()) == 2
    # Someone else's credential cannot be claimed.
    assert _form(client, "/backpack/claim", {"credential": stranger_id}).status_code == 404


# --- import --------------------------------------------------------------------------------


def test_import_verifies_refuses_with_the_reason_and_keeps_one_copy(
    client: TestClient, settings: Settings, session: Session
) -> None:
    sign_in(client, settings, EMAIL)
    badge, _signer = _external_badge()
    text = json.dumps(badge)
    added = _form(client, "/backpack/import", {"credential": text})
    assert added.status_code == 303 and added.headers["location"] == "/backpack?notice=imported"
    page = client.get("/backpack")
    assert "Heat pump installation" in page.text
    print(page.text[page.text.index("from-elsewhere") :][:2500])
    assert "unverified: the issuer's own words" in page.text  # trust as the verify page
    assert 'data-verdict="valid"' in page.text

    # The same badge again, this time baked into an image: one copy.
    png = baking.bake_png(own.png_bytes(), text)
    again = _form(client, "/backpack/import", files={"file": ("badge.png", png, "image/png")})
    assert again.headers["location"] == "/backpack?notice=already"
    assert len(session.exec(select(BackpackItem)).all()) == 1

    tampered = json.loads(text)
    tampered["credentialSubject"]["achievement"]["name"] = "Forged"
    refused = _form(client, "/backpack/import", {"credential": json.dumps(tampered)})
    assert refused.status_code == 422
    assert "Not valid" in refused.text and "Not added." in refused.text
    not_a_badge = _form(client, "/backpack/import", {"credential": "hello"})
    assert not_a_badge.status_code in (400, 422) and "not a credential" in not_a_badge.text
    assert len(session.exec(select(BackpackItem)).all()) == 1

    # Re-verified when shown: an import whose stored copy changed shows as not valid.
    item = session.exec(select(BackpackItem)).one()
    item.data = json.dumps(tampered).encode()
    session.add(item)
    session.commit()
    shown = client.get(f"/backpack/badges/{item.key}")
    assert shown.status_code == 200 and 'data-verdict="invalid"' in shown.text


def test_import_needs_a_signed_in_learner(client: TestClient) -> None:
    response = _form(client, "/backpack/import", {"credential": "{}"})
    assert response.status_code == 303 and response.headers["location"] == "/backpack/sign-in"


# --- share ---------------------------------------------------------------------------------


def test_profile_collections_and_the_zip(
    client: TestClient, settings: Settings, session: Session, world: World, engine
) -> None:
    hub_id = issue(client, world, EMAIL)
    sign_in(client, settings, EMAIL)
    _form(client, "/backpack/claim")
    badge, _ = _external_badge()
    _form(client, "/backpack/import", {"credential": json.dumps(badge)})
    hub_item, imported = sorted(session.exec(select(BackpackItem)).all(), key=lambda i: i.kind)

    saved = _form(
        client, "/backpack/share/profile", {"handle": "ada-l", "name": "Ada L.", "public": "1"}
    )
    assert saved.status_code == 303
    assert client.get("/profiles/ada-l").text.count('class="card badge-card"') == 0
    assert _form(client, f"/backpack/badges/{hub_item.key}/profile", {"shown": "1"}).is_redirect
    session.rollback()  # a new transaction: SQLite's WAL reads from a snapshot
    record = session.exec(select(IssuedCredential).where(IssuedCredential.uuid == hub_id)).one()
    assert record.public  # shown on the profile: its page is public

    stranger = TestClient(create_app(settings, engine=engine))
    profile = stranger.get("/profiles/ada-l")
    assert profile.status_code == 200
    assert f'href="/credentials/{hub_id}"' in profile.text
    assert '<meta property="og:title" content="Badges of Ada L.">' in profile.text
    assert 'property="og:url" content="http://testserver/profiles/ada-l"' in profile.text
    assert EMAIL not in profile.text
    german = stranger.get("/profiles/ada-l", params={"lang": "de"})
    assert "<title>Badges von Ada L. · Skills Hub</title>" in german.text
    assert '<span class="tag ok">Gültig</span>' in german.text
    # The import is not shown until the learner picks it.
    assert stranger.get(f"/profiles/ada-l/badges/{imported.key}").status_code == 404

    # A collection with its own link holds the import.
    assert _form(client, "/backpack/share/collections", {"name": "For Volt GmbH"}).is_redirect
    chosen = _form(client, "/backpack/share/collections/for-volt-gmbh", {"badge": imported.key})
    assert chosen.is_redirect
    collection = stranger.get("/profiles/ada-l/collections/for-volt-gmbh")
    assert collection.status_code == 200 and "Heat pump installation" in collection.text
    public_import = stranger.get(f"/profiles/ada-l/badges/{imported.key}")
    assert public_import.status_code == 200 and 'data-verdict="valid"' in public_import.text

    # Hidden profile: 404 for others; the collection link still works.
    _form(client, "/backpack/share/profile", {"handle": "ada-l", "name": "Ada L."})
    assert stranger.get("/profiles/ada-l").status_code == 404
    assert stranger.get("/profiles/ada-l/collections/for-volt-gmbh").status_code == 200

    # Another learner cannot take the handle.
    with TestClient(create_app(settings, engine=engine)) as other:
        sign_in(other, settings, "grace@example.org")
        taken = _form(other, "/backpack/share/profile", {"handle": "ada-l", "name": "G"})
        assert taken.status_code == 409 and "is taken" in taken.text

    archive = client.get("/backpack/download")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(archive.content)).namelist())
    assert {
        f"skills-hub/{hub_id}/credential.json",
        f"skills-hub/{hub_id}/badge.png",
        f"skills-hub/{hub_id}/badge.svg",
        f"imported/{imported.key}/as-imported.json",
        "account.json",
    } <= names
    account = json.loads(zipfile.ZipFile(io.BytesIO(archive.content)).read("account.json"))
    assert account["email"] == EMAIL and account["handle"] == "ada-l"
    assert account["collections"][0]["badges"] == [imported.key]


# --- leave ---------------------------------------------------------------------------------


def test_leaving_erases_personal_data_and_revocation_still_works(
    client: TestClient,
    settings: Settings,
    session: Session,
    world: World,
    caplog: pytest.LogCaptureFixture,
    console_as,
) -> None:
    hub_id = issue(client, world, EMAIL)
    other_id = issue(client, world, "grace@example.org", name="Grace Hopper")
    sign_in(client, settings, EMAIL)
    _form(client, "/backpack/claim")
    _form(client, f"/credentials/{hub_id}/manage/visibility", {"public": "1"})
    assert client.get(f"/credentials/{hub_id}", headers=BROWSER).status_code == 200
    issued_event = select(AuditEvent).where(AuditEvent.subject_id == hub_id)
    assert any("recipient" in e.details for e in session.exec(issued_event).all())
    session.rollback()
    unconfirmed = _form(client, "/backpack/leave")
    assert unconfirmed.status_code == 422
    assert session.exec(select(Learner)).one().email == EMAIL

    with caplog.at_level(logging.DEBUG):
        left = _form(client, "/backpack/leave", {"confirm": "yes"})
    assert left.status_code == 303 and left.headers["location"] == "/backpack/left"
    assert EMAIL not in caplog.text and "Ada Lovelace" not in caplog.text

    session.rollback()  # a new transaction: SQLite's WAL reads from a snapshot
    assert session.exec(select(Learner)).all() == []
    assert session.exec(select(LearnerSession)).all() == []
    assert session.exec(select(BackpackItem)).all() == []
    assert session.exec(select(LearnerLink)).all() == []
    record = session.exec(select(IssuedCredential).where(IssuedCredential.uuid == hub_id)).one()
    assert record.recipient_email is None and record.erased_at is not None
    assert "Ada" not in record.signed and EMAIL not in record.signed
    assert not record.public
    assert session.exec(select(ClaimToken).where(ClaimToken.credential_id == record.id)).all() == []
    # The other learner's credential is untouched.
    other = session.exec(select(IssuedCredential).where(IssuedCredential.uuid == other_id)).one()
    assert other.recipient_name == "Grace Hopper" and other.erased_at is None
    # The page is gone; the issuer can still revoke, and the status list says so.
    assert client.get(f"/credentials/{hub_id}", headers=BROWSER).status_code == 404
    revoked = client.post(
        f"/api/v1/credentials/{hub_id}/revoke",
        json={"reason": "withdrawn"},
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert revoked.status_code == 200, revoked.text
    session.rollback()
    assert present(session.get(IssuedCredential, record.id)).revoked_at is not None
    # The issuer's console still lists it, named only as erased.
    issuer_staff = console_as(world.org)
    listed = issuer_staff.client.get(f"/console/orgs/{world.org.slug}/recipients")
    assert listed.status_code == 200 and "erased at the learner" in listed.text
    assert EMAIL not in listed.text and "Grace Hopper" in listed.text
    one = issuer_staff.client.get(f"/console/orgs/{world.org.slug}/credentials/{hub_id}")
    assert one.status_code == 200 and EMAIL not in one.text
    events = session.exec(select(AuditEvent).where(AuditEvent.subject_id == hub_id)).all()
    assert events and all("recipient" not in e.details for e in events)


# --- the skills gap ------------------------------------------------------------------------


def test_the_gap_page_counts_the_backpacks_badges(
    client: TestClient, settings: Settings, session: Session
) -> None:
    from sqlmodel import select as sql_select

    from badges import issuing
    from badges.models import Issuer
    from catalogue.models import Course, JobRole, MicroCredential
    from keys.store import ensure_master_key
    from skillshub.demo import load_demo

    load_demo(session, settings)
    session.commit()
    master_key = ensure_master_key(session, settings.resolved_master_key())
    mc = session.exec(
        sql_select(MicroCredential).where(MicroCredential.slug == "bms-engineer")
    ).one()
    course = one(session, Course, mc.course_id)
    issuer = present(
        session.exec(
            sql_select(Issuer).where(Issuer.organisation_id == course.organisation_id)
        ).first(),
        "the course's issuer",
    )
    issuing.issue(
        session,
        master_key,
        issuer=issuer,
        micro_credential=mc,
        recipient=issuing.Recipient("Ada", EMAIL),
        base_url=settings.base_url,
    )
    session.commit()
    role = present(session.exec(sql_select(JobRole).order_by(col(JobRole.id))).first(), "a role")
    params = {"job_role": role.slug, "show": "1"}
    without = client.get("/gap", params=params)
    sign_in(client, settings, EMAIL)
    with_backpack = client.get("/gap", params=params | {"backpack": "1"})
    assert with_backpack.status_code == 200
    assert 'id="from-backpack"' in with_backpack.text
    assert 'data-counted="yes"' in with_backpack.text
    assert "proven by a badge" in with_backpack.text and "proven by a badge" not in without.text
    # The step forms carry the choice on.
    assert '<input type="hidden" name="backpack" value="1">' in with_backpack.text


def test_import_from_a_link_shows_a_registered_providers_trust(
    client: TestClient, settings: Settings, session: Session, world: World
) -> None:
    # A badge page of this hub, made public by its owner elsewhere: imported by its link,
    # read from the database (our own documents), its issuer a registered provider.
    other = issue(client, world, "grace@example.org", name="Grace Hopper")
    session.exec(select(IssuedCredential).where(IssuedCredential.uuid == other)).one().public = True
    session.commit()
    sign_in(client, settings, EMAIL)
    refused = _form(client, "/backpack/import", {"url": "ftp://example.org/badge.json"})
    assert refused.status_code == 422 and "https://" in refused.text
    added = _form(client, "/backpack/import", {"url": f"http://testserver/credentials/{other}"})
    assert added.headers["location"] == "/backpack?notice=imported", added.text
    page = client.get("/backpack")
    assert "registered provider" in page.text and "Voltacademy GmbH" in page.text
    item = session.exec(select(BackpackItem)).one()
    assert item.kind == "import" and item.container == "json"
