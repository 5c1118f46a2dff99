"""Leaving: the learner's account and personal data are erased; the issuers keep only what
revocation needs.

Erased: the account (address, handle, name), its sessions and sign-in links, its imports and
collections; and on every credential this hub issued to the address, the recipient's name,
address, DID and identity hash, the evidence and grade, the issuer's external id, the claim
links and sessions, the wallet offers and the records of wallet copies (holder DIDs), the
bulk-issue row that carried the address, the masked address in the
issuer's audit log, and the signed text itself
(it names the learner). Kept: the credential's id, issuer, micro-credential, dates and state,
and its status entries (`signed` becomes {"credentialStatus": …}, unsigned), so the issuer
can still revoke or suspend it and every copy the learner took away follows. Its page is
hidden. Nothing is logged: this module logs nothing, and the request carries no address.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from accounts.models import AuditEvent
from backpack import items as backpack_items
from backpack.models import (
    BackpackCollection,
    BackpackCollectionItem,
    BackpackItem,
    Learner,
    LearnerLink,
    LearnerSession,
)
from badges.models import BulkJobRow, ClaimToken, IssuedCredential
from badges.sharing.page import document
from badges.wallet.models import WalletCopy, WalletOffer
from catalogue.base import pk

ERASED_NAME = "(erased at the learner's request)"


def _status_only(record: IssuedCredential) -> str:
    status: Any = document(record).get("credentialStatus")
    return json.dumps({"credentialStatus": status} if status else {})


def erase_credential(session: Session, record: IssuedCredential, now: datetime) -> None:
    record.signed = _status_only(record)
    record.recipient_name = ERASED_NAME
    record.recipient_email = None
    record.recipient_did = None
    record.identity_hash = None
    record.external_id = None
    record.grade = None
    record.evidence_url = None
    record.evidence_narrative = None
    record.search_text = ""
    record.public = False
    record.erased_at = now
    session.add(record)
    session.exec(delete(ClaimToken).where(col(ClaimToken.credential_id) == pk(record)))
    # Wallet offers and the copies' records (the holder's DID): the copies share the award's
    # status entries, so revoking the award still revokes them without these rows.
    session.exec(delete(WalletCopy).where(col(WalletCopy.credential_id) == pk(record)))
    session.exec(delete(WalletOffer).where(col(WalletOffer.credential_id) == pk(record)))
    session.exec(
        update(BulkJobRow)
        .where(col(BulkJobRow.credential_uuid) == record.uuid)
        .values(payload="{}", external_id=None, error=None)
    )
    # The issuer's audit log names the recipient masked ("a…@example.org"): that goes too.
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.subject_type == "credential", AuditEvent.subject_id == record.uuid
        )
    )
    for event in events:
        if "recipient" in event.details:
            event.details = {k: v for k, v in event.details.items() if k != "recipient"}
            session.add(event)


def delete_account(session: Session, learner: Learner, *, now: datetime | None = None) -> int:
    """Erase the learner and their personal data (see the module); how many of this hub's
    credentials were erased."""
    now = now or datetime.now(UTC)
    records = backpack_items.issued_to(session, learner)
    for record in records:
        erase_credential(session, record, now)
    learner_id = pk(learner)
    item_ids = select(BackpackItem.id).where(BackpackItem.learner_id == learner_id)
    session.exec(
        delete(BackpackCollectionItem).where(col(BackpackCollectionItem.item_id).in_(item_ids))
    )
    session.exec(delete(BackpackCollection).where(col(BackpackCollection.learner_id) == learner_id))
    session.exec(delete(BackpackItem).where(col(BackpackItem.learner_id) == learner_id))
    session.exec(delete(LearnerSession).where(col(LearnerSession.learner_id) == learner_id))
    session.exec(delete(LearnerLink).where(col(LearnerLink.email) == learner.email))
    session.exec(delete(Learner).where(col(Learner.id) == learner_id))
    session.flush()
    return len(records)
