"""The catalogue's pages: search, job roles, courses, micro-credentials, skills, providers and
the skills-gap form. Server-rendered views of the same service calls the JSON API makes.

`/micro-credentials/{slug}` is the OB 3.0 Achievement `id` of every credential we issue, so it
also answers machines: JSON-LD unless the client ranks HTML before JSON.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from backpack import items as backpack_items
from badges import graduate_reviews, issuing
from badges.issuing import issuers
from badges.sharing import images
from badges.verifying.proven_skills import MAX_CREDENTIALS, HeldCredential, proven_skills
from catalogue import (
    courses,
    gap,
    micro_credentials,
    organisations,
    search,
    skills,
    vocabularies,
)
from catalogue.base import pk
from catalogue.errors import DomainError, InvalidInput
from catalogue.schemas import SearchFilters, SkillOut, SkillRef
from openbadges_schemas.loader import CREDENTIALS_V2, EU_MICROCREDENTIAL_V1, OB_V3P0_CONTEXT_303
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import ContextDep, SessionDep, SettingsDep, read_only
from skillshub.web.errors import http_status
from skillshub.web.i18n import DEFAULT, N_, known_message, language_of
from skillshub.web.learner_auth import signed_in_learner
from skillshub.web.negotiation import preferred, wants_html
from skillshub.web.pages import templates
from skillshub.web.rate_limits import RateClass, spend_per_address
from skillshub.web.routes import community

router = APIRouter(tags=["catalogue pages"], include_in_schema=False)

JSONLD = "application/ld+json"
PER_PAGE = 20
# How many related entries a page lists before linking to the full search.
RELATED = 50
# Above this many job roles the gap form asks for a slug instead of offering a list.
MAX_ROLE_CHOICES = 500
KINDS = {  # English msgids: the templates show them `translated`
    "skill": N_("Skill"),
    "job_role": N_("Job role"),
    "course": N_("Course"),
    "micro_credential": N_("Micro-credential"),
}
_IRI_SEPARATORS = re.compile(r"[\s,]+")
# What the catalogue's services say when an entry is not there (the error page, the console's
# pages) or a search filter is refused (the search page), in the reader's language. A name is
# a slug as the service quoted it.
_QUOTED = r"(?P<q>['\"])(?P<name>.*)(?P=q)"
for _pattern, _message in (
    (
        rf"micro-credential {_QUOTED} does not exist",
        N_("micro-credential “%(name)s” does not exist"),
    ),
    (rf"course {_QUOTED} does not exist", N_("course “%(name)s” does not exist")),
    (rf"organisation {_QUOTED} does not exist", N_("organisation “%(name)s” does not exist")),
    (rf"skill {_QUOTED} does not exist", N_("skill “%(name)s” does not exist")),
    (rf"job role {_QUOTED} does not exist", N_("job role “%(name)s” does not exist")),
    (rf"issuer {_QUOTED} does not exist", N_("issuer “%(name)s” does not exist")),
    (rf"credential {_QUOTED} does not exist", N_("credential “%(name)s” does not exist")),
    (rf"endorsement {_QUOTED} does not exist", N_("endorsement “%(name)s” does not exist")),
    (rf"bulk job {_QUOTED} does not exist", N_("bulk job “%(name)s” does not exist")),
    (r"there is no submission (?P<name>\d+)", N_("there is no submission %(name)s")),
    (r"there is no review (?P<name>\d+)", N_("there is no review %(name)s")),
    (rf"no provider {_QUOTED}", N_("no provider “%(name)s”")),
    (rf"no skill {_QUOTED}", N_("no skill “%(name)s”")),
    (rf"no micro-credential {_QUOTED}", N_("no micro-credential “%(name)s”")),
    (r"kind must be one of (?P<kinds>.+)", N_("kind must be one of %(kinds)s")),
    # The skills gap's refusal of too many badges at once (badges/verifying/proven_skills.py).
    (
        r"at most (?P<count>\d+) credentials at a time",
        N_("at most %(count)s credentials at a time"),
    ),
    (
        r"(?P<value>.+) is not a supported value of '(?P<label>[^']+)' \(use one of: "
        r"(?P<codes>.+)\)",
        N_("%(value)s is not a supported value of “%(label)s” (use one of: %(codes)s)"),
    ),
):
    known_message(_pattern, _message)
# The search page's own refusal of a level that is not a number (`_number`), and the titles
# of the vocabularies its filters use (in the refusal of a value they do not have).
_WORDS = (
    N_("eqf_level must be a number"),
    N_("sort is relevance or rating"),
    N_("European Qualifications Framework level"),
    N_("Mode of learning and assessment (form of participation)"),
    N_("Language"),
    N_("Country"),
)


def _page(
    request: Request, name: str, values: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"kinds": KINDS, **values}, status_code=status_code
    )


def _number(field: str, value: str) -> int | None:
    """A form field that may be left empty (a select's "any" option sends "")."""
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a number", details={"field": field}) from None


def _skill_refs(value: Any, found: list[SkillRef]) -> None:
    if isinstance(value, SkillRef):
        found.append(value)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _skill_refs(getattr(value, name), found)
    elif isinstance(value, list | tuple):
        for item in value:
            _skill_refs(item, found)


def _skills_in(session: Session, language: str, *values: Any) -> None:
    """The skills these views name (at any depth) labelled in the page's language where the
    catalogue holds a label in it, else as they are (the primary, English, label): one query
    for the whole page. English pages are left exactly as the services made them."""
    if language == DEFAULT:
        return
    found: list[SkillRef] = []
    for value in values:
        _skill_refs(value, found)
    if not found:
        return
    labels = skills.labels_in(session, [ref.iri for ref in found], language)
    for ref in found:
        ref.label = labels.get(ref.iri, ref.label)


def _skill_in(view: SkillOut, language: str) -> SkillOut:
    """A skill's page view headed by its label in the page's language where the catalogue
    holds one (with that language's alternative labels, when it has any)."""
    own = next((label for label in view.labels if label.language == language), None)
    if language == DEFAULT or own is None:
        return view
    return view.model_copy(
        update={
            "preferred_label": own.preferred_label,
            "alt_labels": own.alt_labels or view.alt_labels,
        }
    )


def _query(request: Request, **changes: Any) -> str:
    """This page's query string with some parameters changed (None drops one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and v]
    params += [(k, v) for k, v in changes.items() if v is not None]
    return "?" + urlencode(params)


# --- search ------------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    q: str = "",
    kind: str = "",
    skill: str = "",
    eqf_level: str = "",
    mode: str = "",
    language: str = "",
    country: str = "",
    provider: str = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=search.MAX_PAGE)] = 1,
) -> HTMLResponse:
    form = {
        "q": q,
        "kind": kind,
        "skill": skill,
        "eqf_level": eqf_level,
        "mode": mode,
        "language": language,
        "country": country,
        "provider": provider,
        "sort": sort,
    }
    values: dict[str, Any] = {
        "form": form,
        "results": None,
        "error": None,
        "skill_filter": None,
        "eqf_levels": vocabularies.scheme("eqf").concepts,
        "modes": vocabularies.scheme("mode").concepts,
        "languages": vocabularies.scheme("language").concepts,
        "countries": vocabularies.scheme("country").concepts,
        "providers": organisations.list_organisations(session),
    }
    try:
        filters = SearchFilters(
            kind=kind or None,
            skill=skill.strip() or None,
            eqf_level=_number("eqf_level", eqf_level),
            mode=mode or None,
            language=language or None,
            country=country or None,
            provider=provider or None,
        )
        results = search.search(
            session, q, filters, page=page, per_page=PER_PAGE, sort=sort or "relevance"
        )
        if filters.skill:
            values["skill_filter"] = skills.skill_ref(skills.get_skill(session, filters.skill))
    except InvalidInput as exc:
        values["error"] = exc.message
        return _page(request, "catalogue/search.html", values, status_code=http_status(exc))
    values["results"] = results
    values["filtered"] = any(v for k, v in form.items() if k not in ("q", "sort"))
    values["prev_url"] = _query(request, page=page - 1) if page > 1 else None
    values["next_url"] = _query(request, page=page + 1) if page < results.pages else None
    values["first_url"] = _query(request, page=None)
    values["clear_url"] = "/search" + (("?" + urlencode({"q": q})) if q else "")
    return _page(request, "catalogue/search.html", values)


# --- entries -----------------------------------------------------------------------------------


@router.get("/job-roles/{slug}", response_class=HTMLResponse)
def job_role_page(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    role = skills.job_role_view(session, skills.get_job_role(session, slug))
    _skills_in(session, language_of(request), role)
    return _page(
        request,
        "catalogue/job_role.html",
        {
            "role": role,
            "essential": [s for s in role.skills if s.essential],
            "optional": [s for s in role.skills if not s.essential],
        },
    )


@router.get("/courses/{slug}", response_class=HTMLResponse)
def course_page(
    slug: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    context: ContextDep,
) -> HTMLResponse:
    found = courses.public_course(session, slug)
    course = courses.course_view(session, found)
    _skills_in(session, language_of(request), course)
    endorsed = community.endorsement_views(session, context, "course", pk(found), settings.base_url)
    values = {
        "course": course,
        "endorsements": endorsed,
        "reviews": graduate_reviews.shown(session, pk(found)),
        "rating": graduate_reviews.rating(session, pk(found)),
    }
    return _page(request, "catalogue/course.html", values)


@router.get("/micro-credentials/{slug}", response_model=None)
def micro_credential_page(
    slug: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    context: ContextDep,
) -> Response:
    """The page for browsers; the OB 3.0 Achievement (JSON-LD) for everyone else."""
    mc = issuing.service.shown_micro_credential(session, slug)
    urls = issuing.Urls(settings.base_url)
    headers = {"Vary": "Accept"}
    if not wants_html(request):
        achievement = issuing.build_achievement(session, mc, urls, with_grade=False)
        document = {
            "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT_303, EU_MICROCREDENTIAL_V1],
            **achievement,
        }
        # JSON-LD unless plain JSON is preferred (a client that cannot take ld+json).
        offers = (JSONLD, "application/json")
        media_type = preferred(request.headers.get("accept", ""), offers) or JSONLD
        return JSONResponse(document, media_type=media_type, headers=headers)
    view = micro_credentials.micro_credential_view(session, mc)
    _skills_in(session, language_of(request), view)
    return templates.TemplateResponse(
        request,
        "catalogue/micro_credential.html",
        {
            "mc": view,
            "achievement_id": urls.micro_credential(mc.slug),
            "has_image": images.get_image(session, mc) is not None,
            "endorsements": community.endorsement_views(
                session, context, "micro_credential", pk(mc), settings.base_url
            ),
        },
        headers=headers,
    )


@router.get("/skills/{slug}", response_class=HTMLResponse)
def skill_page(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    skill = skills.get_skill(session, slug)

    def related(kind: str) -> Any:
        filters = SearchFilters(kind=kind, skill=skill.slug)
        return search.search(session, "", filters, per_page=RELATED)

    return _page(
        request,
        "catalogue/skill.html",
        {
            "skill": _skill_in(skills.skill_view(session, skill), language_of(request)),
            "job_roles": related("job_role"),
            "micro_credentials": related("micro_credential"),
            "courses": skills.courses_teaching(session, [skill.iri]),
            "search_url": "/search?" + urlencode({"skill": skill.slug}),
        },
    )


@router.get("/organisations/{slug}", response_class=HTMLResponse)
def organisation_page(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    org = organisations.get_organisation(session, slug)
    return _page(
        request,
        "catalogue/organisation.html",
        {
            "org": org,
            "country": vocabularies.concept("country", org.country),
            "courses": courses.list_courses(session, provider=slug, per_page=search.MAX_PER_PAGE),
            "micro_credentials": micro_credentials.list_micro_credentials(
                session, provider=slug, per_page=search.MAX_PER_PAGE
            ),
            "issuers": issuers.list_issuers(session, organisation_id=org.id),
            "search_url": "/search?" + urlencode({"provider": slug}),
        },
    )


# --- skills gap --------------------------------------------------------------------------------


def _gap_values(
    session: Session,
    language: str,
    job_role: str,
    have: list[str],
    iris: str,
    show: bool,
    held: list[HeldCredential] | None = None,
    proven: list[str] | None = None,
) -> tuple[dict[str, Any], DomainError | None]:
    roles = skills.list_job_roles(session, per_page=MAX_ROLE_CHOICES)
    pasted = [i for i in _IRI_SEPARATORS.split(iris) if i]
    values: dict[str, Any] = {
        "roles": roles,
        "job_role": job_role.strip(),
        "role": None,
        "required": [],
        "have": set(have) | set(pasted),
        "iris": iris,
        "result": None,
        "error": None,
        "held": held or [],
        "proven": set(proven or []),
    }
    if not values["job_role"]:
        return values, None
    error: DomainError | None = None
    try:
        role = skills.get_job_role(session, values["job_role"])
        values["role"] = skills.job_role_ref(role)
        values["required"] = skills.required_skills(session, role)
        if show:
            values["result"] = gap.gap(session, role.slug, values["have"] | values["proven"])
    except DomainError as exc:
        values["error"] = exc.message
        error = exc
    _skills_in(session, language, values["required"], values["result"])
    return values, error


@router.get("/gap", response_class=HTMLResponse)
async def gap_page(
    request: Request,
    context: ContextDep,
    job_role: str = "",
    have: Annotated[list[str] | None, Query()] = None,
    iris: str = "",
    show: str = "",
    backpack: str = "",
) -> HTMLResponse:
    """Step 1 picks a job role; step 2 ticks the skills the learner has (or takes pasted
    IRIs); `show` asks for the result: the missing skills and a training path. With
    `backpack=1` and a signed-in learner, the backpack's badges count, verified as a POST's
    would be (and on the same budget)."""
    session = context.session
    assert session is not None
    learner = signed_in_learner(request, session) if backpack else None
    held: list[HeldCredential] | None = None
    proven: list[str] | None = None
    if learner is not None:
        badges = await run_in_threadpool(backpack_items.gap_credentials, session, learner)
        if badges:
            spend_per_address(request, RateClass.VERIFY)
        proven, held = await run_in_threadpool(proven_skills, context, badges)
    values, error = await run_in_threadpool(
        _gap_values,
        session,
        language_of(request),
        job_role,
        have or [],
        iris,
        bool(show),
        held,
        proven,
    )
    values["backpack"] = learner is not None
    values["backpack_asked"] = bool(backpack)
    status_code = http_status(error) if error is not None else 200
    return _page(request, "catalogue/gap.html", values, status_code=status_code)


@router.post("/gap", response_class=HTMLResponse, dependencies=[CsrfDep])
@read_only
async def gap_with_badges(request: Request, context: ContextDep) -> HTMLResponse:
    """The same steps carrying the learner's badges (sent from the verify page): the skills
    of every badge that verifies and whose issuer is trusted count as held."""
    form = await request.form(max_files=0, max_fields=MAX_CREDENTIALS + MAX_ROLE_CHOICES + 10)
    badges = [b.strip() for b in form.getlist("badge") if isinstance(b, str) and b.strip()]
    if badges:
        spend_per_address(request, RateClass.VERIFY)
    proven, held = await run_in_threadpool(proven_skills, context, badges)
    fields = {k: form.get(k) for k in ("job_role", "iris", "show")}
    have = [h for h in form.getlist("have") if isinstance(h, str)]
    assert context.session is not None
    values, error = await run_in_threadpool(
        _gap_values,
        context.session,
        language_of(request),
        fields["job_role"] if isinstance(fields["job_role"], str) else "",
        have,
        fields["iris"] if isinstance(fields["iris"], str) else "",
        bool(fields["show"]),
        held,
        proven,
    )
    values["badges"] = badges
    status_code = http_status(error) if error is not None else 200
    return _page(request, "catalogue/gap.html", values, status_code=status_code)
