"""Which endorsements an award carries: the endorser-signed credentials of a micro-credential
that are valid at the award's date and not revoked, in the award's own securing format. A
query over stored rows only, so that the issuing code (below badges.endorsing) can use it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from badges.models import Endorsement

# The most an award carries (the verifier checks up to SKILLSHUB_VERIFY_MAX_ENDORSEMENTS).
MAX_CARRIED = 8


def current(
    session: Session, subject_kind: str, subject_ref_id: int, at: datetime
) -> list[Endorsement]:
    """Endorsements of the subject valid at `at` and not revoked, oldest first."""
    return list(
        session.exec(
            select(Endorsement)
            .where(
                Endorsement.subject_kind == subject_kind,
                Endorsement.subject_ref_id == subject_ref_id,
                col(Endorsement.revoked_at).is_(None),
                col(Endorsement.valid_from) <= at,
                or_(col(Endorsement.valid_until).is_(None), col(Endorsement.valid_until) > at),
            )
            .order_by(col(Endorsement.created_at), col(Endorsement.id))
            .limit(MAX_CARRIED)
        )
    )


def carried(session: Session, micro_credential_id: int, fmt: str, at: datetime) -> list[Any]:
    """What an award signed in `fmt` carries: signed JSON objects (ldp) or compact JWS (jwt)."""
    rows = current(session, "micro_credential", micro_credential_id, at)
    if fmt == "jwt":
        return [row.signed_jwt for row in rows]
    return [json.loads(row.signed_ldp) for row in rows]
