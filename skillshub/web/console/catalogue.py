"""The catalogue editor: the organisation's courses and micro-credentials, drafts included,
created and edited in forms with every element the API takes; publish and unpublish.

Every form answers all of its problems at once, each next to its field and in a summary at
the top; a refused form is shown again with everything typed (a chosen file has to be chosen
again: browsers never refill a file field). Roles and audit events are accounts.catalogue's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from accounts import catalogue as service
from accounts.roles import Role
from badges.sharing import images
from catalogue import review
from catalogue.errors import Conflict, InvalidInput
from catalogue.models import EntryState
from skillshub.web.console import catalogue_forms as forms
from skillshub.web.console import nav
from skillshub.web.console.auth import IssuerDep, OrgAccess, ViewerDep
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep, SettingsDep
from skillshub.web.i18n import N_
from skillshub.web.pages import templates
from skillshub.web.security_headers import PAGE_CSP

router = APIRouter(include_in_schema=False)
templates.env.globals.setdefault("fid", forms.field_id)
# The badge preview shows the chosen file through a blob: URL (URL.createObjectURL); an <img>
# runs no script, so the editor's pages allow blob: images and nothing more than other pages.
EDITOR_CSP = {
    "Content-Security-Policy": PAGE_CSP.replace(
        "img-src 'self' data:", "img-src 'self' data: blob:"
    )
}

CATALOGUE = "/console/orgs/{slug}/catalogue"
nav.register(N_("Catalogue"), CATALOGUE, needs=Role.viewer, order=10)
for _notice, _text in {
    "mc_saved": N_("The micro-credential was saved as a draft: only your organisation sees it."),
    "mc_updated": N_("The micro-credential was saved."),
    "mc_published": N_(
        "The micro-credential is published: it is in the public catalogue and can be issued."
    ),
    "mc_unpublished": N_(
        "The micro-credential is a draft again: it left the public catalogue and is not issued."
    ),
    "course_saved": N_("The course was saved as a draft: only your organisation sees it."),
    "course_updated": N_("The course was saved."),
    "course_published": N_("The course is published: it is in the public catalogue."),
    "course_unpublished": N_("The course is a draft again: it left the public catalogue."),
}.items():
    register_notice(_notice, _text)
for _audit_action, _words in {
    "micro_credential.create": N_("created a micro-credential"),
    "micro_credential.update": N_("changed a micro-credential"),
    "micro_credential.publish": N_("published a micro-credential"),
    "micro_credential.unpublish": N_("unpublished a micro-credential"),
    "course.create": N_("created a course"),
    "course.update": N_("changed a course"),
    "course.publish": N_("published a course"),
    "course.unpublish": N_("unpublished a course"),
}.items():
    register_action(_audit_action, _words)


@dataclass(frozen=True)
class Submitted:
    pairs: forms.Pairs
    upload: service.Upload | None


async def read_form(request: Request) -> Submitted:
    """The form's fields and its file (read to one byte past the limit, so an oversized one
    is told apart without reading it all). Read before the session's first query."""
    form = await request.form()
    pairs: forms.Pairs = []
    upload = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == service.IMAGE_FIELD and value.filename:
                data = await value.read(images.MAX_UPLOAD_BYTES + 1)
                upload = service.Upload(value.filename, data)
        else:
            pairs.append((key, value))
    return Submitted(pairs, upload)


FormDep = Annotated[Submitted, Depends(read_form)]


def _errors(exc: InvalidInput | Conflict) -> dict[str, str]:
    details = exc.details if isinstance(exc.details, dict) else {}
    listed = details.get("errors")
    if isinstance(listed, list) and listed:
        return {str(e["field"]): str(e["message"]) for e in listed}
    return {str(details.get("field") or "input"): exc.message}


def _action(pairs: forms.Pairs) -> str:
    return next((v for k, v in pairs if k == "action"), "save")


# --- the list ------------------------------------------------------------------------------


@router.get(CATALOGUE, response_class=HTMLResponse)
def catalogue_page(
    request: Request, access: ViewerDep, session: SessionDep, settings: SettingsDep
) -> Response:
    found = service.entries(session, access.user, access.organisation)
    return render(
        request,
        "console/catalogue.html",
        {
            "entries": found,
            "can_edit": access.role >= Role.issuer,
            "review_required": settings.require_review,
            "latest": review.latest_submissions(session, access.organisation),
        },
        me=access.me,
        organisation=access.organisation,
    )


@router.get("/console/orgs/{slug}/badge-preview.png", response_class=Response)
def badge_preview(access: ViewerDep, title: Annotated[str, Query(max_length=300)] = "") -> Response:
    """The badge drawn for a micro-credential without an image of its own."""
    png = images.default_png(
        title.strip() or "Your micro-credential", access.organisation.legal_name
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


# --- micro-credentials ------------------------------------------------------------------------


def _mc_page(
    request: Request,
    access: OrgAccess,
    session: Session,
    form: forms.Form,
    *,
    slug: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = service.entries(session, access.user, access.organisation)
    current = next((mc for mc, _c in found.micro_credentials if mc.slug == slug), None)
    has_image = current is not None and images.get_image(session, current) is not None
    return render(
        request,
        "console/micro_credential_form.html",
        {
            "form": form,
            "choices": forms.choices(),
            "courses": found.courses,
            "stack_targets": [mc for mc, _c in found.micro_credentials if mc.slug != slug],
            "mc": current,
            "has_image": has_image,
            "max_image_kb": images.MAX_UPLOAD_BYTES // 1024,
        },
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
        headers=EDITOR_CSP,
    )


@router.get("/console/orgs/{slug}/micro-credentials/new", response_class=HTMLResponse)
def new_micro_credential(
    request: Request, access: IssuerDep, session: SessionDep, course: str = ""
) -> Response:
    form = forms.Form(values={"course": course}, outcomes=[forms.Outcome()])
    return _mc_page(request, access, session, form)


@router.get("/console/orgs/{slug}/micro-credentials/{mc_slug}/edit", response_class=HTMLResponse)
def edit_micro_credential(
    request: Request, mc_slug: str, access: IssuerDep, session: SessionDep
) -> Response:
    _mc, data = service.micro_credential(session, access.user, access.organisation, mc_slug)
    return _mc_page(
        request, access, session, forms.micro_credential_values(session, data), slug=mc_slug
    )


def _save_micro_credential(
    request: Request,
    submitted: Submitted,
    access: OrgAccess,
    session: Session,
    base_url: str,
    slug: str | None,
) -> Response:
    form = forms.micro_credential_form(session, submitted.pairs)
    action = _action(submitted.pairs)
    if action not in ("save", "publish"):
        forms.act_on_outcomes(session, form, action)
        return _mc_page(request, access, session, form, slug=slug)
    payload = forms.micro_credential_payload(form)
    if slug is not None:
        payload.setdefault("slug", slug)  # an emptied address keeps the current one
    if action == "publish":
        payload["state"] = EntryState.published.value
    elif slug is None:
        payload["state"] = EntryState.draft.value
    else:
        payload.pop("state", None)
    try:
        mc = service.save_micro_credential(
            session,
            access.user,
            access.organisation,
            payload,
            slug=slug,
            upload=submitted.upload,
            actor=access.actor,
            address=access.address,
            base_url=base_url,
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()  # nothing of a refused form is kept
        form.errors = _errors(exc)
        return _mc_page(request, access, session, form, slug=slug, status_code=422)
    notice = {"publish": "mc_published"}.get(action, "mc_saved" if slug is None else "mc_updated")
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/catalogue?notice={notice}#mc-{mc.slug}",
        status_code=303,
    )


@router.post(
    "/console/orgs/{slug}/micro-credentials/new",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def create_micro_credential(
    request: Request,
    submitted: FormDep,
    access: IssuerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return _save_micro_credential(request, submitted, access, session, settings.base_url, None)


@router.post(
    "/console/orgs/{slug}/micro-credentials/{mc_slug}/edit",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def update_micro_credential(
    request: Request,
    mc_slug: str,
    submitted: FormDep,
    access: IssuerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return _save_micro_credential(request, submitted, access, session, settings.base_url, mc_slug)


def _state_change(access: OrgAccess, notice: str, anchor: str) -> Response:
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/catalogue?notice={notice}#{anchor}",
        status_code=303,
    )


def _refused(request: Request, access: OrgAccess, exc: Conflict) -> HTMLResponse:
    return render(
        request,
        "console/refused.html",
        {"message": exc.message, "back": f"/console/orgs/{access.organisation.slug}/catalogue"},
        me=access.me,
        organisation=access.organisation,
        status_code=409,
    )


@router.post(
    "/console/orgs/{slug}/micro-credentials/{mc_slug}/{change}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def change_micro_credential_state(
    request: Request, mc_slug: str, change: str, access: IssuerDep, session: SessionDep
) -> Response:
    state = _state_for(change)
    try:
        mc = service.set_micro_credential_state(
            session,
            access.user,
            access.organisation,
            mc_slug,
            state,
            actor=access.actor,
            address=access.address,
        )
    except Conflict as exc:
        session.rollback()
        return _refused(request, access, exc)
    return _state_change(access, f"mc_{change}ed", f"mc-{mc.slug}")


def _state_for(change: str) -> EntryState:
    if change == "publish":
        return EntryState.published
    if change == "unpublish":
        return EntryState.draft
    raise InvalidInput(f"no such change {change!r} (publish or unpublish)")


# --- courses ------------------------------------------------------------------------


def _course_page(
    request: Request,
    access: OrgAccess,
    form: forms.Form,
    *,
    slug: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/course_form.html",
        {"form": form, "choices": forms.choices(), "course_slug": slug},
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get("/console/orgs/{slug}/courses/new", response_class=HTMLResponse)
def new_course(request: Request, access: IssuerDep) -> Response:
    form = forms.Form(values={"country": access.organisation.country})
    return _course_page(request, access, form)


@router.get("/console/orgs/{slug}/courses/{course_slug}/edit", response_class=HTMLResponse)
def edit_course(
    request: Request, course_slug: str, access: IssuerDep, session: SessionDep
) -> Response:
    _course, data = service.course(session, access.user, access.organisation, course_slug)
    return _course_page(request, access, forms.course_values(session, data), slug=course_slug)


def _save_course(
    request: Request, submitted: Submitted, access: OrgAccess, session: Session, slug: str | None
) -> Response:
    form = forms.course_form(session, submitted.pairs)
    action = _action(submitted.pairs)
    if action == "find":
        form.skill_hits = forms.find_skills(session, form.skill_q)
        return _course_page(request, access, form, slug=slug)
    if action not in ("save", "publish"):
        return _course_page(request, access, form, slug=slug)
    payload: dict[str, Any] = forms.course_payload(form)
    if slug is not None:
        payload.setdefault("slug", slug)  # an emptied address keeps the current one
    if action == "publish":
        payload["state"] = EntryState.published.value
    elif slug is None:
        payload["state"] = EntryState.draft.value
    try:
        course = service.save_course(
            session,
            access.user,
            access.organisation,
            payload,
            slug=slug,
            known=form.errors,
            actor=access.actor,
            address=access.address,
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        form.errors = _errors(exc)
        return _course_page(request, access, form, slug=slug, status_code=422)
    new_or_not = "course_saved" if slug is None else "course_updated"
    notice = {"publish": "course_published"}.get(action, new_or_not)
    return _state_change(access, notice, f"course-{course.slug}")


@router.post(
    "/console/orgs/{slug}/courses/new", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def create_course(
    request: Request, submitted: FormDep, access: IssuerDep, session: SessionDep
) -> Response:
    return _save_course(request, submitted, access, session, None)


@router.post(
    "/console/orgs/{slug}/courses/{course_slug}/edit",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def update_course(
    request: Request,
    course_slug: str,
    submitted: FormDep,
    access: IssuerDep,
    session: SessionDep,
) -> Response:
    return _save_course(request, submitted, access, session, course_slug)


@router.post(
    "/console/orgs/{slug}/courses/{course_slug}/{change}",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def change_course_state(
    request: Request, course_slug: str, change: str, access: IssuerDep, session: SessionDep
) -> Response:
    state = _state_for(change)
    try:
        course = service.set_course_state(
            session,
            access.user,
            access.organisation,
            course_slug,
            state,
            actor=access.actor,
            address=access.address,
        )
    except Conflict as exc:
        session.rollback()
        return _refused(request, access, exc)
    return _state_change(access, f"course_{change}ed", f"course-{course.slug}")
