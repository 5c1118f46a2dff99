"""Catalogue JSON export and import: an organisation's courses with their micro-credentials.

The document uses the same shapes as the API's write models, so an export imports unchanged
into another hub (or back into this one: entries are matched by slug and updated).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from catalogue import checks, courses, micro_credentials
from catalogue.errors import Conflict
from catalogue.models import Course, MicroCredential, Organisation
from catalogue.schemas import (
    EXPORT_FORMAT,
    CatalogueExport,
    CourseIn,
    ExportedCourse,
    ExportedMicroCredential,
    ImportSummary,
    MicroCredentialIn,
)


def export_catalogue(session: Session, org: Organisation) -> CatalogueExport:
    exported = []
    for course in session.exec(
        select(Course).where(Course.organisation_id == org.id).order_by(Course.slug)
    ):
        mcs = session.exec(
            select(MicroCredential)
            .where(MicroCredential.course_id == course.id)
            .order_by(MicroCredential.slug)
        )
        exported.append(
            ExportedCourse(
                **courses.course_input(session, course).model_dump(),
                micro_credentials=[
                    ExportedMicroCredential(
                        **micro_credentials.micro_credential_input(session, mc).model_dump()
                        | {"course": None}
                    )
                    for mc in mcs
                ],
            )
        )
    return CatalogueExport(organisation=courses.organisation_ref(org), courses=exported)


def parse_export(document: Any) -> CatalogueExport:
    """A catalogue document from decoded JSON, or InvalidInput naming the first problem."""
    try:
        parsed = CatalogueExport.model_validate(document)
    except ValidationError as exc:
        raise checks.from_validation_error(exc) from None
    if parsed.format != EXPORT_FORMAT or parsed.version != 1:
        raise checks.invalid("format", f"expected {EXPORT_FORMAT!r} version 1")
    return parsed


def import_catalogue(
    session: Session, org: Organisation, document: CatalogueExport
) -> ImportSummary:
    """Create or update (by slug) each course and micro-credential for `org`.

    Any error stops the import; the caller's transaction then rolls back, leaving the catalogue
    unchanged. Slugs of another organisation's entries are a Conflict, not an update."""
    summary = ImportSummary()
    pending: list[tuple[str, ExportedMicroCredential]] = []
    for entry in document.courses:
        data = CourseIn.model_validate(entry.model_dump(exclude={"micro_credentials"}))
        existing = _existing(session, Course, data.slug)
        if existing is not None and existing.organisation_id != org.id:
            raise Conflict(f"course slug {data.slug!r} belongs to another organisation")
        if existing is None:
            course = courses.create_course(session, org, data)
            summary.courses_created += 1
        else:
            course = courses.update_course(session, org, existing.slug, data)
            summary.courses_updated += 1
        pending.extend((course.slug, mc) for mc in entry.micro_credentials)
    # Micro-credentials after every course; stacking links last, so `stackable_towards` may
    # name a micro-credential that comes later in the document.
    stacked: list[MicroCredentialIn] = []
    for course_slug, mc_entry in pending:
        mc_data = MicroCredentialIn.model_validate(mc_entry.model_dump() | {"course": course_slug})
        first = mc_data.model_copy(update={"stackable_towards": None})
        slug = _save_micro_credential(session, org, first, summary)
        if mc_data.stackable_towards:
            stacked.append(mc_data.model_copy(update={"slug": slug}))
    for mc_data in stacked:
        micro_credentials.update_micro_credential(session, org, mc_data.slug or "", mc_data)
    return summary


def _existing(session: Session, model: Any, slug: str | None) -> Any:
    if not slug:
        return None
    return session.exec(select(model).where(model.slug == slug)).first()


def _save_micro_credential(
    session: Session,
    org: Organisation,
    data: MicroCredentialIn,
    summary: ImportSummary,
) -> str:
    existing = _existing(session, MicroCredential, data.slug)
    if existing is None:
        summary.micro_credentials_created += 1
        return micro_credentials.create_micro_credential(session, org, data).slug
    course = session.get(Course, existing.course_id)
    if course is None or course.organisation_id != org.id:
        raise Conflict(f"micro-credential slug {data.slug!r} belongs to another organisation")
    summary.micro_credentials_updated += 1
    return micro_credentials.update_micro_credential(session, org, existing.slug, data).slug
