"""The catalogue API: public reads, search and skills gap; a provider's own writes (token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from badges.issuing import service as issuing
from catalogue import courses, gap, micro_credentials, search, skills, transfer, vocabularies
from catalogue.errors import NotFound
from catalogue.models import EntryState
from catalogue.schemas import (
    CatalogueExport,
    CourseIn,
    CourseOut,
    CourseSummary,
    GapResult,
    ImportSummary,
    JobRoleOut,
    JobRoleRef,
    MicroCredentialIn,
    MicroCredentialOut,
    MicroCredentialSummary,
    Page,
    SearchFilters,
    SearchPage,
    SkillOut,
    SkillRef,
)
from skillshub.web.deps import ApiCallerDep, OrgDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["catalogue"])

PageNumber = Annotated[int, Query(ge=1, le=search.MAX_PAGE)]
PerPage = Annotated[int, Query(ge=1, le=search.MAX_PER_PAGE)]
Changes = Annotated[dict[str, Any], Body(description="only the fields to change")]
# The body is read as the model when it fits and as plain JSON when not, so that the services
# check every field and answer every problem at once (422, details.errors), not one per try.
CourseBody = Annotated[
    CourseIn | dict[str, Any],
    Body(description="a CourseIn; a body with problems is answered with all of them at once"),
]
MicroCredentialBody = Annotated[
    MicroCredentialIn | dict[str, Any],
    Body(
        description="a MicroCredentialIn; a body with problems is answered with all of them at once"
    ),
]


# --- skills and job roles -----------------------------------------------------------------------


@router.get("/skills")
def list_skills(
    session: SessionDep, page: PageNumber = 1, per_page: PerPage = 20
) -> Page[SkillRef]:
    return skills.list_skills(session, page=page, per_page=per_page)


@router.get("/skills/{key:path}", summary="A skill by slug or IRI")
def get_skill(key: str, session: SessionDep) -> SkillOut:
    return skills.skill_view(session, skills.get_skill(session, key))


@router.get("/job-roles")
def list_job_roles(
    session: SessionDep, page: PageNumber = 1, per_page: PerPage = 20
) -> Page[JobRoleRef]:
    return skills.list_job_roles(session, page=page, per_page=per_page)


@router.get("/job-roles/{key:path}", summary="A job role by slug or IRI, with courses for it")
def get_job_role(key: str, session: SessionDep) -> JobRoleOut:
    return skills.job_role_view(session, skills.get_job_role(session, key))


# --- courses ------------------------------------------------------------------------------------


@router.get("/courses")
def list_courses(
    session: SessionDep,
    provider: str | None = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> Page[CourseSummary]:
    return courses.list_courses(session, provider=provider, page=page, per_page=per_page)


@router.get("/courses/{slug}", summary="A published course")
def get_course(slug: str, session: SessionDep) -> CourseOut:
    return courses.course_view(session, courses.public_course(session, slug))


# Every write records its audit event in the request's transaction (a failed change, none).


@router.post("/courses", status_code=201)
def create_course(
    data: CourseBody, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> CourseOut:
    course = courses.create_course(session, org, data)
    caller.record(session, "course.create", subject_type="course", subject_id=course.slug)
    return courses.course_view(session, course)


@router.put("/courses/{slug}")
def replace_course(
    slug: str, data: CourseBody, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> CourseOut:
    course = courses.update_course(session, org, slug, data)
    caller.record(session, "course.update", subject_type="course", subject_id=course.slug)
    return courses.course_view(session, course)


@router.post("/courses/{slug}/publish", summary="Publish a draft course")
def publish_course(slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep) -> CourseOut:
    course = courses.set_state(session, org, slug, EntryState.published)
    caller.record(session, "course.publish", subject_type="course", subject_id=course.slug)
    return courses.course_view(session, course)


@router.post(
    "/courses/{slug}/unpublish",
    summary="Back to draft (only while none of its micro-credentials is published)",
)
def unpublish_course(
    slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> CourseOut:
    course = courses.set_state(session, org, slug, EntryState.draft)
    caller.record(session, "course.unpublish", subject_type="course", subject_id=course.slug)
    return courses.course_view(session, course)


@router.patch("/courses/{slug}")
def patch_course(
    slug: str, changes: Changes, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> CourseOut:
    course = courses.patch_course(session, org, slug, changes)
    caller.record(
        session,
        "course.update",
        subject_type="course",
        subject_id=course.slug,
        details={"fields": sorted(changes)[:50]},
    )
    return courses.course_view(session, course)


@router.delete("/courses/{slug}", status_code=204)
def delete_course(slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep) -> Response:
    courses.delete_course(session, org, slug)
    caller.record(session, "course.delete", subject_type="course", subject_id=slug)
    return Response(status_code=204)


# --- micro-credentials --------------------------------------------------------------------------


@router.get("/micro-credentials")
def list_micro_credentials(
    session: SessionDep,
    provider: str | None = None,
    course: str | None = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> Page[MicroCredentialSummary]:
    return micro_credentials.list_micro_credentials(
        session, provider=provider, course=course, page=page, per_page=per_page
    )


@router.get(
    "/micro-credentials/{slug}",
    summary="A published micro-credential (or a draft that credentials were issued from)",
)
def get_micro_credential(slug: str, session: SessionDep) -> MicroCredentialOut:
    mc = issuing.shown_micro_credential(session, slug)
    return micro_credentials.micro_credential_view(session, mc)


MC = "micro_credential"


@router.post("/micro-credentials", status_code=201)
def create_micro_credential(
    data: MicroCredentialBody, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> MicroCredentialOut:
    mc = micro_credentials.create_micro_credential(session, org, data)
    caller.record(session, "micro_credential.create", subject_type=MC, subject_id=mc.slug)
    return micro_credentials.micro_credential_view(session, mc)


@router.put("/micro-credentials/{slug}")
def replace_micro_credential(
    slug: str, data: MicroCredentialBody, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> MicroCredentialOut:
    mc = micro_credentials.update_micro_credential(session, org, slug, data)
    caller.record(session, "micro_credential.update", subject_type=MC, subject_id=mc.slug)
    return micro_credentials.micro_credential_view(session, mc)


@router.post("/micro-credentials/{slug}/publish", summary="Publish a draft micro-credential")
def publish_micro_credential(
    slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> MicroCredentialOut:
    mc = micro_credentials.set_state(session, org, slug, EntryState.published)
    caller.record(session, "micro_credential.publish", subject_type=MC, subject_id=mc.slug)
    return micro_credentials.micro_credential_view(session, mc)


@router.post(
    "/micro-credentials/{slug}/unpublish",
    summary="Back to draft: out of the public catalogue and search, and not issued",
)
def unpublish_micro_credential(
    slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> MicroCredentialOut:
    mc = micro_credentials.set_state(session, org, slug, EntryState.draft)
    caller.record(session, "micro_credential.unpublish", subject_type=MC, subject_id=mc.slug)
    return micro_credentials.micro_credential_view(session, mc)


@router.patch("/micro-credentials/{slug}")
def patch_micro_credential(
    slug: str, changes: Changes, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> MicroCredentialOut:
    mc = micro_credentials.patch_micro_credential(session, org, slug, changes)
    caller.record(
        session,
        "micro_credential.update",
        subject_type=MC,
        subject_id=mc.slug,
        details={"fields": sorted(changes)[:50]},
    )
    return micro_credentials.micro_credential_view(session, mc)


@router.delete("/micro-credentials/{slug}", status_code=204)
def delete_micro_credential(
    slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> Response:
    micro_credentials.delete_micro_credential(session, org, slug)
    caller.record(session, "micro_credential.delete", subject_type=MC, subject_id=slug)
    return Response(status_code=204)


# --- search, gap, vocabularies --------------------------------------------------------------------


@router.get("/search")
def search_catalogue(
    session: SessionDep,
    filters: Annotated[SearchFilters, Query()],
    q: str = "",
    page: PageNumber = 1,
    per_page: PerPage = 20,
    sort: Annotated[str, Query(description="relevance (default) or rating")] = "relevance",
) -> SearchPage:
    return search.search(session, q, filters, page=page, per_page=per_page, sort=sort)


@router.get("/gap")
def skills_gap(
    session: SessionDep,
    job_role: Annotated[str, Query(description="job role slug or ESCO occupation URI")],
    have: Annotated[list[str] | None, Query(description="skill IRIs the learner has")] = None,
) -> GapResult:
    return gap.gap(session, job_role, have or [])


@router.get("/vocabularies", summary="The controlled values the catalogue accepts")
def list_vocabularies() -> dict[str, Any]:
    return {key: _scheme(key) for key in vocabularies.SCHEMES}


@router.get("/vocabularies/{key}")
def get_vocabulary(key: str) -> dict[str, Any]:
    if key not in vocabularies.SCHEMES:
        raise NotFound(f"no vocabulary {key!r} (one of: {', '.join(vocabularies.SCHEMES)})")
    return _scheme(key)


def _scheme(key: str) -> dict[str, Any]:
    scheme = vocabularies.scheme(key)
    return {
        "iri": scheme.iri,
        "title": scheme.title,
        "concepts": [{"code": c.code, "iri": c.iri, "label": c.label} for c in scheme.concepts],
    }


# --- catalogue JSON -------------------------------------------------------------------------------


@router.get("/catalogue/export", summary="The caller's courses and micro-credentials as JSON")
def export_catalogue(session: SessionDep, org: OrgDep) -> CatalogueExport:
    return transfer.export_catalogue(session, org)


@router.post("/catalogue/import", summary="Create or update (by slug), all or nothing")
def import_catalogue(
    document: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    org: OrgDep,
    caller: ApiCallerDep,
) -> ImportSummary:
    summary = transfer.import_catalogue(session, org, transfer.parse_export(document))
    caller.record(session, "catalogue.import", details=summary.model_dump())
    return summary
