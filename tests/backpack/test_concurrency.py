"""Two requests at once (both databases): a claim, an import, a first sign-in or a handle
sent twice in parallel gives one record, and neither request fails."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backpack import accounts, items, sharing
from backpack.models import BackpackItem, Learner, LearnerSession
from badges import issuing
from badges.verifying import VerificationContext
from catalogue.base import pk
from catalogue.errors import Conflict
from skillshub.db import session_scope
from skillshub.settings import Settings
from tests.support import own
from tests.support.present import present
from tests.support.world import World

EMAIL = "ada.lovelace@example.org"


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _learner(engine: Engine) -> int:
    with session_scope(engine) as db:
        learner = Learner(email=EMAIL)
        db.add(learner)
        db.flush()
        assert learner.id is not None
        return learner.id


def _as_learner(engine: Engine, learner_id: int, action: Callable[[Session, Learner], Any]):
    def call() -> Any:
        with session_scope(engine) as db:
            learner = db.get(Learner, learner_id)
            assert learner is not None
            return action(db, learner)

    return call


def test_claiming_twice_at_once_gives_one_record(
    engine: Engine, session: Session, world: World
) -> None:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada Lovelace", "Ada.Lovelace@example.org"),
        base_url="http://testserver",
    )
    session.commit()
    learner_id = _learner(engine)
    claim = _as_learner(engine, learner_id, lambda db, me: items.claim(db, me, record.uuid).key)
    keys = _together([claim, claim, claim])
    with Session(engine) as db:
        rows = db.exec(select(BackpackItem)).all()
    assert len(rows) == 1 and set(keys) == {rows[0].key}


def test_importing_twice_at_once_gives_one_record(engine: Engine, settings: Settings) -> None:
    signer = own.Signer.ed25519()
    badge = signer.data_integrity(own.credential(signer.did))
    checked = items.check_import(VerificationContext(), json.dumps(badge))
    learner_id = _learner(engine)
    add = _as_learner(engine, learner_id, lambda db, me: items.add_import(db, me, checked))
    results = _together([add, add, add])
    with Session(engine) as db:
        rows = db.exec(select(BackpackItem)).all()
    assert len(rows) == 1
    assert sorted(created for _item, created in results) == [False, False, True]


def test_a_first_sign_in_from_two_links_at_once_makes_one_account(
    engine: Engine, settings: Settings
) -> None:
    tokens = []
    for _ in range(2):
        with session_scope(engine) as db:
            mail = accounts.request_link(db, settings, settings.base_url, EMAIL)
            body = present(mail.message.get_body(("plain",))).get_content()
            tokens.append(body.split("token=")[1].split()[0])
    # The second link ended the first: make the first live again to race two redemptions.
    with session_scope(engine) as db:
        for row in db.exec(select(accounts.LearnerLink)).all():
            row.expires_at = row.created_at + accounts.DEFAULT_LINK_TTL
            db.add(row)

    def redeem(token: str) -> Callable[[], int]:
        def call() -> int:
            with session_scope(engine) as db:
                learner, _ = accounts.redeem_link(db, token)
                assert learner.id is not None
                return learner.id

        return call

    ids = _together([redeem(tokens[0]), redeem(tokens[1])])
    with Session(engine) as db:
        assert len(db.exec(select(Learner)).all()) == 1
        assert len(db.exec(select(LearnerSession)).all()) == 2
    assert ids[0] == ids[1]


def test_one_handle_asked_for_by_two_learners_at_once_goes_to_one(engine: Engine) -> None:
    learners = []
    for n in range(2):
        with session_scope(engine) as db:
            learner = Learner(email=f"learner{n}@example.org")
            db.add(learner)
            db.flush()
            learners.append(pk(learner))

    def take(db: Session, me: Learner) -> str:
        sharing.set_profile(db, me, handle="ada", display_name="Ada", public=True)
        return "taken"

    results = _together([_as_learner(engine, lid, take) for lid in learners])
    assert sorted(map(str, results)) == sorted(
        ["taken", "The handle “ada” is taken: choose another."]
    )
    with Session(engine) as db:
        assert len(db.exec(select(Learner).where(Learner.handle == "ada")).all()) == 1
