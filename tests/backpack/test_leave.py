"""Leaving, at the service level (both databases): a VC-JWT credential erased to its status
entries can still be revoked and suspended, its wallet offers are gone, and the restore check
skips erased credentials."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from backpack import leave
from backpack.models import Learner
from badges import issuing
from badges.models import IssuedCredential, StatusList
from badges.status import bitstring, lists
from badges.wallet import offers
from badges.wallet.models import WalletOffer
from skillshub.ops import backup
from tests.support.present import one
from tests.support.world import World

EMAIL = "ada.lovelace@example.org"


def test_an_erased_jwt_credential_can_still_be_revoked_and_suspended(
    session: Session, world: World
) -> None:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada Lovelace", EMAIL),
        base_url="http://testserver",
        fmt="jwt",
        status_purposes=("revocation", "suspension"),
    )
    learner = Learner(email=EMAIL)
    session.add(learner)
    offers.create_offer(session, record, base_url="http://testserver", ttl=timedelta(minutes=5))
    session.commit()
    assert len(session.exec(select(WalletOffer)).all()) == 1
    assert leave.delete_account(session, learner) == 1
    session.commit()
    session.refresh(record)
    kept = json.loads(record.signed)
    assert set(kept) == {"credentialStatus"} and "Ada" not in record.signed
    assert session.exec(select(WalletOffer)).all() == []  # the wallet offer went too
    assert {e["statusPurpose"] for e in kept["credentialStatus"]} == {"revocation", "suspension"}
    for action in ("suspend", "revoke"):
        lists.change_status(
            session,
            world.master_key,
            credential_uuid=record.uuid,
            action=action,
            organisation_id=world.org.id,
            actor="test",
            base_url="http://testserver",
            reason="withdrawn",
        )
    session.commit()
    for entry in kept["credentialStatus"]:
        status_list = session.exec(
            select(StatusList).where(
                StatusList.issuer_id == world.issuer.id,
                StatusList.purpose == entry["statusPurpose"],
            )
        ).one()
        assert bitstring.get_bit(status_list.bits, int(entry["statusListIndex"]))
    assert list(backup._sample(session, 10)) == []  # nothing signed left to check
    assert one(session, IssuedCredential, record.id).erased_at is not None
