"""The catalogue editor's actions for console users: the role check and the audit event around
each catalogue service call (issue 13: roles are enforced in the services).

Viewers read (their organisation's drafts included); issuers create, edit, publish and
unpublish. Every change is recorded in the same transaction (`micro_credential.create`,
`.update`, `.publish`, `.unpublish`; the same for `course.*`), and an upload is checked before
anything is written, its problem reported with the form's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from accounts import audit
from accounts.audit import Actor
from accounts.models import User
from accounts.roles import Role
from accounts.users import require_role
from badges.sharing import images
from catalogue import checks, courses, micro_credentials
from catalogue.base import pk
from catalogue.errors import DomainError
from catalogue.models import Course, EntryState, MicroCredential, Organisation
from catalogue.schemas import CourseIn, MicroCredentialIn

IMAGE_FIELD = "badge_image"


@dataclass(frozen=True)
class Upload:
    """A file from a form: its bytes and the type the browser named (often wrong)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Entries:
    courses: list[Course]
    micro_credentials: list[tuple[MicroCredential, Course]]


def entries(session: Session, user: User, organisation: Organisation) -> Entries:
    """The organisation's courses and micro-credentials, drafts included (viewer role)."""
    require_role(session, user, organisation, Role.viewer)
    own = list(
        session.exec(
            select(Course)
            .where(Course.organisation_id == organisation.id)
            .order_by(col(Course.title), col(Course.id))
        )
    )
    by_id = {pk(c): c for c in own}
    mcs = session.exec(
        select(MicroCredential)
        .where(col(MicroCredential.course_id).in_(list(by_id)))
        .order_by(col(MicroCredential.title), col(MicroCredential.id))
    )
    return Entries(own, [(mc, by_id[mc.course_id]) for mc in mcs])


def micro_credential(
    session: Session, user: User, organisation: Organisation, slug: str
) -> tuple[MicroCredential, MicroCredentialIn]:
    """One of the organisation's micro-credentials as its form shows it (viewer role)."""
    require_role(session, user, organisation, Role.viewer)
    mc = micro_credentials.own_micro_credential(session, organisation, slug)
    return mc, micro_credentials.micro_credential_input(session, mc)


def course(
    session: Session, user: User, organisation: Organisation, slug: str
) -> tuple[Course, CourseIn]:
    require_role(session, user, organisation, Role.viewer)
    found = courses.own_course(session, organisation, slug)
    return found, courses.course_input(session, found)


def _checked_upload(upload: Upload | None, problems: checks.Problems) -> images.CleanImage | None:
    """The upload cleaned, or None with its problem noted (nothing written either way)."""
    if upload is None or not upload.data:
        return None
    try:
        return images.clean_upload(upload.data, images.sniff(upload.data))
    except DomainError as exc:
        problems.add(IMAGE_FIELD, _image_problem(exc))
        return None


def _image_problem(exc: DomainError) -> str:
    if exc.code == "payload_too_large":
        return (
            f"the image is too large ({exc.message.split('; ')[0].removeprefix('the image is ')}); "
            f"choose one of at most {images.MAX_UPLOAD_BYTES // 1024} KB"
        )
    if exc.code == "unsupported_media_type":
        return "this file is not a PNG or SVG image: choose a .png or .svg file"
    return exc.message


def save_micro_credential(
    session: Session,
    user: User,
    organisation: Organisation,
    data: dict[str, Any],
    *,
    slug: str | None = None,
    upload: Upload | None = None,
    actor: Actor,
    address: str | None,
    base_url: str,
) -> MicroCredential:
    """Create (slug None) or replace one, with its badge image; every problem of the form and
    the upload at once (FieldErrors), nothing written unless all of it passes."""
    require_role(session, user, organisation, Role.issuer)
    known = checks.Problems()
    image = _checked_upload(upload, known)
    before = None
    if slug is None:
        mc = micro_credentials.create_micro_credential(session, organisation, data, known=known)
    else:
        before = micro_credentials.own_micro_credential(session, organisation, slug).state
        mc = micro_credentials.update_micro_credential(
            session, organisation, slug, data, known=known
        )
    if image is not None:
        images.store_image(session, mc, image, base_url=base_url)
    details: dict[str, Any] = {"title": mc.title, "state": mc.state}
    if image is not None:
        details["image"] = image.media_type
    _record(
        session,
        "micro_credential.create" if slug is None else "micro_credential.update",
        organisation,
        mc.slug,
        details,
        actor=actor,
        address=address,
    )
    if before is not None and before != mc.state:
        action = "publish" if mc.state == EntryState.published else "unpublish"
        _record(
            session,
            f"micro_credential.{action}",
            organisation,
            mc.slug,
            {},
            actor=actor,
            address=address,
        )
    return mc


def set_micro_credential_state(
    session: Session,
    user: User,
    organisation: Organisation,
    slug: str,
    state: EntryState,
    *,
    actor: Actor,
    address: str | None,
) -> MicroCredential:
    require_role(session, user, organisation, Role.issuer)
    before = micro_credentials.own_micro_credential(session, organisation, slug).state
    mc = micro_credentials.set_state(session, organisation, slug, state)
    if before != mc.state:
        action = "publish" if state == EntryState.published else "unpublish"
        _record(
            session,
            f"micro_credential.{action}",
            organisation,
            mc.slug,
            {},
            actor=actor,
            address=address,
        )
    return mc


def save_course(
    session: Session,
    user: User,
    organisation: Organisation,
    data: dict[str, Any],
    *,
    slug: str | None = None,
    known: dict[str, str] | None = None,
    actor: Actor,
    address: str | None,
) -> Course:
    """Create (slug None) or replace a course; `known`: the form's own problems (field:
    message), reported with the service's."""
    require_role(session, user, organisation, Role.issuer)
    problems = checks.Problems({"field": k, "message": v} for k, v in (known or {}).items())
    before = None
    if slug is None:
        saved = courses.create_course(session, organisation, data, known=problems)
    else:
        before = courses.own_course(session, organisation, slug).state
        saved = courses.update_course(session, organisation, slug, data, known=problems)
    _record(
        session,
        "course.create" if slug is None else "course.update",
        organisation,
        saved.slug,
        {"title": saved.title, "state": saved.state},
        actor=actor,
        address=address,
    )
    if before is not None and before != saved.state:
        action = "publish" if saved.state == EntryState.published else "unpublish"
        _record(
            session, f"course.{action}", organisation, saved.slug, {}, actor=actor, address=address
        )
    return saved


def set_course_state(
    session: Session,
    user: User,
    organisation: Organisation,
    slug: str,
    state: EntryState,
    *,
    actor: Actor,
    address: str | None,
) -> Course:
    require_role(session, user, organisation, Role.issuer)
    before = courses.own_course(session, organisation, slug).state
    saved = courses.set_state(session, organisation, slug, state)
    if before != saved.state:
        action = "publish" if state == EntryState.published else "unpublish"
        _record(
            session, f"course.{action}", organisation, saved.slug, {}, actor=actor, address=address
        )
    return saved


def _record(
    session: Session,
    action: str,
    organisation: Organisation,
    slug: str,
    details: dict[str, Any],
    *,
    actor: Actor,
    address: str | None,
) -> None:
    kind = action.split(".", 1)[0]
    audit.record(
        session,
        actor=actor,
        action=action,
        organisation=organisation,
        subject_type=kind,
        subject_id=slug,
        details=details or None,
        address=address,
    )


__all__ = [
    "Entries",
    "Upload",
    "course",
    "entries",
    "micro_credential",
    "save_course",
    "save_micro_credential",
    "set_course_state",
    "set_micro_credential_state",
]
