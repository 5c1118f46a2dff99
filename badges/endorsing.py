"""Endorsements (issue 20): an organisation's issuer signs an Open Badges 3.0
EndorsementCredential about a micro-credential, a course or another organisation, with a
comment and a validity period, secured like awards (Data Integrity eddsa-rdfc-2022 and
VC-JWT) and revocable through a status entry in the endorser's own revocation list.

The endorser is the caller's organisation (a token's, a console member's, the CLI's --org):
nobody endorses as another organisation, nor endorses their own offer. Awards of an endorsed
micro-credential carry its current endorsements (badges.endorsed, used by the issuing code).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session, col, select

from badges import status
from badges.issuing import issuers
from badges.issuing.service import Urls, issuer_profile, sign
from badges.models import Endorsement, IssuedCredential, Issuer
from badges.securing import JwtAlgorithm
from badges.status.lists import set_bit
from catalogue import courses, micro_credentials
from catalogue.base import pk
from catalogue.errors import Conflict, Forbidden, InvalidInput, NotFound
from catalogue.models import Course, MicroCredential, Organisation
from catalogue.organisations import get_organisation
from keys.sealing import MasterKey
from openbadges_schemas.loader import CREDENTIALS_V2, OB_EXTENSIONS, OB_V3P0_CONTEXT_303

SubjectKind = Literal["micro_credential", "course", "organisation"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("micro_credential", "course", "organisation")
ENDORSEMENT_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
)
MAX_COMMENT = 2000
MAX_YEARS = 10


class SelfEndorsement(Forbidden):
    code = "self_endorsement"


class EndorsementRevoked(Conflict):
    code = "endorsement_revoked"


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    ref_id: int
    uri: str
    title: str
    owner_id: int  # the organisation whose offer (or self) it is


def endorsement_url(base_url: str, endorsement_uuid: str) -> str:
    return f"{base_url}/endorsements/{endorsement_uuid}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def subject(session: Session, kind: str, key: str, base_url: str) -> Subject:
    """The published entry (or organisation) an endorsement is about."""
    urls = Urls(base_url)
    if kind == "micro_credential":
        mc = micro_credentials.public_micro_credential(session, key)
        course = session.get(Course, mc.course_id)
        assert course is not None
        uri = urls.micro_credential(mc.slug)
        return Subject("micro_credential", pk(mc), uri, mc.title, course.organisation_id)
    if kind == "course":
        found = courses.public_course(session, key)
        uri = f"{base_url}/courses/{found.slug}"
        return Subject("course", pk(found), uri, found.title, found.organisation_id)
    if kind == "organisation":
        org = get_organisation(session, key)
        issuer = session.exec(
            select(Issuer).where(Issuer.organisation_id == org.id).order_by(col(Issuer.id))
        ).first()
        uri = issuer.did if issuer is not None else f"{base_url}/organisations/{org.slug}"
        return Subject("organisation", pk(org), uri, org.legal_name, pk(org))
    raise InvalidInput(
        f"an endorsement is about a micro-credential, a course or an organisation, not {kind!r}"
    )


def _endorser_issuer(session: Session, endorser: Organisation, issuer_slug: str | None) -> Issuer:
    if issuer_slug:
        # Another organisation's issuer is refused as if it did not exist (not revealed).
        return issuers.owned_issuer(session, issuer_slug, pk(endorser))
    issuer = session.exec(
        select(Issuer).where(Issuer.organisation_id == endorser.id).order_by(col(Issuer.id))
    ).first()
    if issuer is None:
        raise Conflict(
            f"{endorser.legal_name} has no issuer to sign endorsements with: create one first "
            "(skillshub issuer create)"
        )
    return issuer


def _checked_comment(comment: str | None) -> str:
    text = (comment or "").strip()
    if not text:
        raise InvalidInput("say why you endorse it (the comment)", details={"field": "comment"})
    if len(text) > MAX_COMMENT:
        raise InvalidInput(
            f"the comment is too long ({len(text)} characters; at most {MAX_COMMENT})",
            details={"field": "comment"},
        )
    return text


def _period(
    valid_from: datetime | None, valid_until: datetime | None, now: datetime
) -> tuple[datetime, datetime | None]:
    start = (valid_from or now).astimezone(UTC).replace(microsecond=0)
    end = valid_until.astimezone(UTC).replace(microsecond=0) if valid_until else None
    if start < now - timedelta(days=1):
        raise InvalidInput(
            "an endorsement starts today or later, not in the past",
            details={"field": "valid_from"},
        )
    if end is not None and end <= max(start, now):
        raise InvalidInput(
            "the end of the validity period must be after its start and in the future",
            details={"field": "valid_until"},
        )
    if end is not None and end > start + timedelta(days=366 * MAX_YEARS):
        raise InvalidInput(
            f"an endorsement is valid for at most {MAX_YEARS} years",
            details={"field": "valid_until"},
        )
    return start, end


def build(
    *,
    endorsement_uuid: str,
    issuer: Issuer,
    endorser: Organisation,
    about: Subject,
    comment: str,
    valid_from: datetime,
    valid_until: datetime | None,
    base_url: str,
    status_entry: dict[str, Any] | None,
) -> dict[str, Any]:
    """The unsigned EndorsementCredential (OB 3.0, VC Data Model 2.0)."""
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT_303, OB_EXTENSIONS],
        "id": endorsement_url(base_url, endorsement_uuid),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": f"{endorser.legal_name} endorses {about.title}"[:300],
        "issuer": issuer_profile(issuer, endorser, Urls(base_url)),
        "validFrom": _iso(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = _iso(valid_until)
    credential["credentialSubject"] = {
        "id": about.uri,
        "type": ["EndorsementSubject"],
        "endorsementComment": comment,
    }
    credential["credentialSchema"] = [
        {"id": ENDORSEMENT_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}
    ]
    if status_entry is not None:
        credential["credentialStatus"] = status_entry
    return credential


def endorse(
    session: Session,
    master_key: MasterKey,
    *,
    endorser: Organisation,
    subject_kind: str,
    subject_key: str,
    comment: str | None,
    base_url: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    issuer_slug: str | None = None,
    now: datetime | None = None,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> Endorsement:
    """Sign and store one endorsement by `endorser` (the caller's own organisation)."""
    text = _checked_comment(comment)
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    start, end = _period(valid_from, valid_until, moment)
    about = subject(session, subject_kind, subject_key, base_url)
    if about.owner_id == pk(endorser):
        raise SelfEndorsement(
            f"{endorser.legal_name} cannot endorse its own {subject_kind.replace('_', '-')}: "
            "an endorsement is another organisation's word"
        )
    issuer = _endorser_issuer(session, endorser, issuer_slug)
    endorsement_uuid = str(uuid.uuid4())
    savepoint = session.begin_nested()
    try:
        [entry] = status.allocate_entries(
            session,
            master_key,
            issuer=issuer,
            base_url=base_url,
            credential_uuid=endorsement_uuid,
            purposes=("revocation",),
        )
        credential = build(
            endorsement_uuid=endorsement_uuid,
            issuer=issuer,
            endorser=endorser,
            about=about,
            comment=text,
            valid_from=start,
            valid_until=end,
            base_url=base_url,
            status_entry=entry,
        )
        row = Endorsement(
            uuid=endorsement_uuid,
            endorser_id=pk(endorser),
            issuer_id=pk(issuer),
            subject_kind=about.kind,
            subject_ref_id=about.ref_id,
            subject_uri=about.uri,
            comment=text,
            valid_from=start,
            valid_until=end,
            signed_ldp=sign(session, master_key, issuer, credential, "ldp"),
            signed_jwt=sign(session, master_key, issuer, credential, "jwt", jwt_algorithm),
        )
        session.add(row)
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return row


def get(session: Session, endorsement_uuid: str) -> Endorsement:
    found = session.exec(select(Endorsement).where(Endorsement.uuid == endorsement_uuid)).first()
    if found is None:
        raise NotFound(f"endorsement {endorsement_uuid!r} does not exist")
    return found


def revoke(
    session: Session,
    master_key: MasterKey,
    *,
    endorsement_uuid: str,
    endorser: Organisation,
    base_url: str,
) -> Endorsement:
    """Revoke one of the endorser's own endorsements: its bit in the endorser's list; awards
    that carry it show it revoked at their next verification."""
    row = session.exec(
        select(Endorsement)
        .where(Endorsement.uuid == endorsement_uuid)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None or row.endorser_id != pk(endorser):
        # Another organisation's endorsement is not revealed to exist.
        raise NotFound(f"endorsement {endorsement_uuid!r} does not exist")
    if row.revoked_at is not None:
        raise EndorsementRevoked(f"endorsement {endorsement_uuid} is revoked already")
    stand_in = IssuedCredential(  # transient: what the status list code reads of a credential
        uuid=row.uuid,
        issuer_id=row.issuer_id,
        format="ldp",
        signed=row.signed_ldp,
        recipient_name="",
    )
    set_bit(session, master_key, base_url, stand_in, "revocation", True)
    row.revoked_at = datetime.now(UTC)
    session.add(row)
    session.flush()
    return row


def of_subject(
    session: Session, subject_kind: str, ref_id: int, *, limit: int = 20
) -> list[Endorsement]:
    """A subject's endorsements (revoked ones too: the page says so), newest first."""
    return list(
        session.exec(
            select(Endorsement)
            .where(Endorsement.subject_kind == subject_kind, Endorsement.subject_ref_id == ref_id)
            .order_by(col(Endorsement.created_at).desc(), col(Endorsement.id).desc())
            .limit(limit)
        )
    )


def by_endorser(session: Session, endorser: Organisation, *, limit: int = 200) -> list[Endorsement]:
    return list(
        session.exec(
            select(Endorsement)
            .where(Endorsement.endorser_id == pk(endorser))
            .order_by(col(Endorsement.created_at).desc(), col(Endorsement.id).desc())
            .limit(limit)
        )
    )


def document(row: Endorsement) -> dict[str, Any]:
    return dict(json.loads(row.signed_ldp))


def endorser_of(session: Session, row: Endorsement) -> Organisation:
    org = session.get(Organisation, row.endorser_id)
    assert org is not None
    return org


def subject_title(session: Session, row: Endorsement) -> str:
    if row.subject_kind == "micro_credential":
        mc = session.get(MicroCredential, row.subject_ref_id)
        return mc.title if mc else row.subject_uri
    if row.subject_kind == "course":
        course = session.get(Course, row.subject_ref_id)
        return course.title if course else row.subject_uri
    org = session.get(Organisation, row.subject_ref_id)
    return org.legal_name if org else row.subject_uri


__all__ = [
    "ENDORSEMENT_SCHEMA_URL",
    "SUBJECT_KINDS",
    "EndorsementRevoked",
    "SelfEndorsement",
    "Subject",
    "build",
    "by_endorser",
    "document",
    "endorse",
    "endorsement_url",
    "endorser_of",
    "get",
    "of_subject",
    "revoke",
    "subject",
    "subject_title",
]
