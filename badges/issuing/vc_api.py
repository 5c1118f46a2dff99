"""VC-API `/credentials/issue`: a caller's credential checked, signed and recorded.

The credential must conform to the VC Data Model (2.0, or 1.1 as such: the Data Integrity
context is added to a 1.1 credential's @context before signing); each broken MUST is reported
as problem details naming its rule, and nothing is signed. The issuer is one of the caller's
organisation's and must be the credential's declared issuer. The same award rules as
`POST /api/v1/issuers/{slug}/credentials` apply to whatever the credential says that this
deployment owns: an achievement that is one of our micro-credentials must be awarded by the
issuer's organisation; ids and status lists under our BASE_URL are ours to assign.

The signed credential is stored like an award (`source` "vc-api"), with Bitstring Status
List entries (the deployment's default purposes, or those `options.credentialStatus` asks
for), so the credentials API, revoke and suspend work on it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from badges import status
from badges.issuing import issuers
from badges.issuing.service import Urls, credential_uuid_of
from badges.models import IssuedCredential, Issuer
from badges.securing import issuer_signer, secure
from catalogue.base import pk
from catalogue.errors import Conflict, Forbidden, InvalidInput, NotFound
from catalogue.models import Course, MicroCredential
from keys.sealing import MasterKey
from openbadges_schemas.loader import BITSTRING_STATUS_LIST_V1
from openbadges_schemas.vc_data_model import Problem, credential_problems, version_of

SOURCE = "vc-api"
STATUS_ENTRY = "BitstringStatusListEntry"
_MAX_NAME = 300
_MAX_ID = 1000


class BadIssueRequest(InvalidInput):
    """A VC-API issue request that cannot be honoured as given (VC-API: 400 Bad Request).

    `problem` holds RFC 9457 members, which skillshub/web/errors.py puts at the top of the
    response next to our usual `error` object."""

    code = "bad_issue_request"

    def __init__(self, message: str, *, details: Any = None, problem: dict[str, Any] | None = None):
        super().__init__(message, details=details)
        self.problem = problem or {"type": "about:blank", "title": "Bad Request", "detail": message}


class NonConformingCredential(BadIssueRequest):
    """The submitted credential breaks a VC Data Model MUST; nothing was signed."""

    code = "non_conforming_credential"

    def __init__(self, problems: list[Problem]) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        message = f"not a conforming credential: {shown}{more}"
        details = [p.as_problem_details() for p in problems]
        first = details[0]
        problem = {"type": first["type"], "title": first["title"], "detail": message}
        super().__init__(message, details=details, problem=problem | {"errors": details})


@dataclass(frozen=True)
class IssueOptions:
    issuer: str | None
    purposes: tuple[str, ...]
    credential_id: str | None = None  # VC-API `credentialId`: how the caller will name it


def parse_options(options: Mapping[str, Any], default_purposes: tuple[str, ...]) -> IssueOptions:
    """`options.issuer` (an issuer's slug or DID) and `options.credentialStatus`: an object
    or a list of objects `{"type": "BitstringStatusListEntry", "statusPurpose": …}` whose
    purposes replace the default ones."""
    issuer = options.get("issuer")
    if issuer is not None and not isinstance(issuer, str):
        raise BadIssueRequest("options.issuer must be an issuer's slug or DID")
    credential_id = options.get("credentialId")
    if credential_id is not None and not _short_str(credential_id, _MAX_ID):
        raise BadIssueRequest(f"options.credentialId must be a string of at most {_MAX_ID}")
    if "credentialStatus" not in options:
        return IssueOptions(issuer, default_purposes, credential_id)
    asked = options["credentialStatus"]
    entries = asked if isinstance(asked, list) else [asked]
    purposes: list[str] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("type") != STATUS_ENTRY:
            raise BadIssueRequest(
                f"options.credentialStatus: this issuer adds {STATUS_ENTRY} entries only "
                '({"type": "BitstringStatusListEntry", "statusPurpose": "revocation"})'
            )
        wanted = entry.get("statusPurpose", list(default_purposes))
        for purpose in wanted if isinstance(wanted, list) else [wanted]:
            if purpose not in status.PURPOSES:
                raise BadIssueRequest(
                    f"options.credentialStatus: statusPurpose {purpose!r} is not one of "
                    f"{', '.join(status.PURPOSES)}"
                )
            purposes.append(purpose)
    return IssueOptions(issuer, tuple(dict.fromkeys(purposes)), credential_id)


def choose_issuer(
    session: Session, organisation_id: int | None, credential: Mapping[str, Any], ref: str | None
) -> Issuer:
    """The organisation's issuer named by `options.issuer` or by the credential's issuer id;
    it must be the credential's declared issuer (a proof by another key proves nothing)."""
    own = issuers.list_issuers(session, organisation_id)
    issuer_field = credential.get("issuer")
    declared = issuer_field.get("id") if isinstance(issuer_field, Mapping) else issuer_field
    chosen = next((i for i in own if (ref or declared) in (i.slug, i.did)), None)
    if chosen is None:
        raise Forbidden("the credential's issuer is not one of this organisation's issuers")
    if declared != chosen.did:
        raise BadIssueRequest(
            f"options.issuer names {chosen.slug!r}, but the credential declares {declared!r}"
        )
    return chosen


def check_award(
    session: Session, issuer: Issuer, credential: Mapping[str, Any], base_url: str
) -> MicroCredential | None:
    """The award rules for what the credential says this deployment owns; the micro-credential
    it awards, if it names one of ours."""
    urls = Urls(base_url)
    credential_id = credential.get("id")
    if isinstance(credential_id, str) and credential_id.startswith(urls.credential("")):
        raise Forbidden(
            f"credential ids under {urls.credential('')} are assigned by this deployment"
        )
    for entry in _as_list(credential.get("credentialStatus")):
        target = entry.get("statusListCredential") if isinstance(entry, Mapping) else None
        if isinstance(target, str) and target.startswith(f"{base_url}/status/"):
            raise Forbidden(
                "entries on this deployment's status lists are allocated by it: ask for them "
                "with options.credentialStatus"
            )
    awarded = None
    prefix = urls.micro_credential("")
    for subject in _as_list(credential.get("credentialSubject")):
        achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
        target = achievement.get("id") if isinstance(achievement, Mapping) else None
        if isinstance(target, str) and target.startswith(prefix):
            awarded = _owned_micro_credential(session, issuer, target.removeprefix(prefix))
    return awarded


def _owned_micro_credential(session: Session, issuer: Issuer, slug: str) -> MicroCredential:
    mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).first()
    if mc is None:
        raise NotFound(f"micro-credential {slug!r} does not exist")
    course = session.get(Course, mc.course_id)
    if course is None or course.organisation_id != issuer.organisation_id:
        # The same refusal as POST /api/v1/issuers/{slug}/credentials.
        raise Forbidden(f"micro-credential {mc.slug!r} is not awarded by issuer {issuer.slug!r}")
    return mc


def read_request(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(credential, options) of a VC-API issue request body."""
    if not isinstance(body, Mapping) or "credential" not in body:
        raise BadIssueRequest("the request must be a JSON object with a credential")
    credential, options = body["credential"], body.get("options", {})
    if not isinstance(credential, Mapping):
        raise NonConformingCredential(credential_problems(credential))
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise BadIssueRequest("options must be a JSON object")
    return dict(credential), dict(options)


def issue_submitted(
    session: Session,
    master_key: MasterKey,
    *,
    organisation_id: int | None,
    credential: Mapping[str, Any],
    options: Mapping[str, Any],
    base_url: str,
    default_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES,
) -> IssuedCredential:
    """Check, sign (`eddsa-rdfc-2022`) and record a caller's credential. Nothing is written
    unless it is signed and stored whole."""
    problems = credential_problems(credential)
    if problems:
        raise NonConformingCredential(problems)
    parsed = parse_options(options, default_purposes)
    issuer = choose_issuer(session, organisation_id, credential, parsed.issuer)
    mc = check_award(session, issuer, credential, base_url)
    record_uuid = str(uuid.uuid4())
    savepoint = session.begin_nested()
    try:
        entries = status.allocate_entries(
            session,
            master_key,
            issuer=issuer,
            base_url=base_url,
            credential_uuid=record_uuid,
            purposes=parsed.purposes,
        )
        document = _with_status(credential, entries)
        signer = issuer_signer(session, master_key, pk(issuer), "ldp")
        try:
            signed = secure(document, "ldp", signer)
        except ValueError as exc:  # CanonicalizationError, ProofError: the input's fault
            raise BadIssueRequest(f"cannot sign this credential: {exc}") from None
        record = _record(record_uuid, issuer, mc, signed, parsed.credential_id)
        session.add(record)
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return record


def _with_status(credential: Mapping[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The credential with our status entries added to any it has (one entry: an object)."""
    document = dict(credential)
    if not entries:
        return document
    combined = [*_as_list(document.get("credentialStatus")), *entries]
    document["credentialStatus"] = combined[0] if len(combined) == 1 else combined
    if version_of(document) == "1.1":  # VC 1.1's context does not define the entry's terms
        contexts = _as_list(document.get("@context"))
        if BITSTRING_STATUS_LIST_V1 not in contexts:
            document["@context"] = [*contexts, BITSTRING_STATUS_LIST_V1]
    return document


def _record(
    record_uuid: str,
    issuer: Issuer,
    mc: MicroCredential | None,
    signed: dict[str, Any],
    named: str | None,
) -> IssuedCredential:
    """The record; `named` (options.credentialId) or the credential's own id names it."""
    first = next(iter(_as_list(signed.get("credentialSubject"))), None)
    subject: Mapping[str, Any] = first if isinstance(first, Mapping) else {}
    name, subject_id, credential_id = subject.get("name"), subject.get("id"), signed.get("id")
    start = signed.get("validFrom", signed.get("issuanceDate"))
    end = signed.get("validUntil", signed.get("expirationDate"))
    return IssuedCredential(
        uuid=record_uuid,
        issuer_id=pk(issuer),
        micro_credential_id=pk(mc) if mc is not None else None,
        format="ldp",
        source=SOURCE,
        credential_id=named or (credential_id if _short_str(credential_id, _MAX_ID) else None),
        recipient_name=name if isinstance(name, str) and _short_str(name, _MAX_NAME) else "",
        recipient_did=subject_id if _short_str(subject_id, 500) else None,
        valid_from=_instant(start) or datetime.now(UTC),
        valid_until=_instant(end),
        signed=json.dumps(signed, ensure_ascii=False, indent=2),
    )


def _short_str(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def _instant(value: Any) -> datetime | None:
    """An aware UTC datetime from a checked dateTime value (a VC 1.1 one may have no zone:
    read as UTC); None when Python cannot represent it (e.g. a year past 9999)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- VC-API updateCredentialStatus ------------------------------------------------------------

_ACTIONS = {
    ("revocation", True): "revoke",
    ("suspension", True): "suspend",
    ("suspension", False): "unsuspend",
}


def update_status(
    session: Session,
    master_key: MasterKey,
    *,
    organisation_id: int | None,
    body: Any,
    base_url: str,
    actor: str,
) -> IssuedCredential:
    """VC-API `POST /credentials/status` `{credentialId, credentialStatus: {type,
    statusPurpose}, status}`: revoke (revocation true), suspend or unsuspend (suspension
    true/false) one of the organisation's credentials, named by its UUID or its id."""
    if not isinstance(body, Mapping):
        raise BadIssueRequest("the request must be a JSON object")
    reference, entry, value = (
        body.get("credentialId"),
        body.get("credentialStatus"),
        body.get("status"),
    )
    if not isinstance(reference, str) or not reference.strip():
        raise BadIssueRequest("credentialId must name the credential (its UUID or its id)")
    if not isinstance(entry, Mapping) or not isinstance(value, bool):
        raise BadIssueRequest(
            'credentialStatus must be {"type": …, "statusPurpose": …} and status a boolean'
        )
    purpose = entry.get("statusPurpose")
    action = _ACTIONS.get((purpose, value)) if isinstance(purpose, str) else None
    if action is None:
        if purpose == "revocation":
            raise Conflict("revocation is final: a revoked credential cannot be reinstated")
        raise BadIssueRequest(f"statusPurpose must be one of {', '.join(status.PURPOSES)}")
    credential_uuid = credential_uuid_of(session, reference, base_url)
    return status.change_status(
        session,
        master_key,
        credential_uuid=credential_uuid,
        action=action,
        organisation_id=organisation_id,
        actor=actor,
        base_url=base_url,
    )
