"""The review workflow in the console (issue 20).

Providers: "Submit for review" on a course or micro-credential (the catalogue page), the
conversation of its submissions, proposals of job-role skills. Operators: the queue, each
submission with the diff since the entry's last approval and the conversation, approve or
request changes; the shared job roles' required skills. The services (accounts.review) check
every role again and record each step in the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import review as service
from catalogue import skills
from catalogue.errors import Conflict, InvalidInput, NotFound
from catalogue.models import SkillLevel
from skillshub.web.console import nav
from skillshub.web.console.auth import ConsoleUserDep, IssuerDep
from skillshub.web.console.hub import OperatorDep
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)

QUEUE = "/console/review"
JOB_ROLES = "/console/hub/job-roles"
nav.register(N_("Review queue"), QUEUE, order=6, operators_only=True)
for _notice, _text in {
    "submitted": N_("Submitted for review: a hub operator will publish it or ask for changes."),
    "approved": N_("Approved: it is published."),
    "changes_requested": N_("Changes requested: the provider sees your comments."),
    "replied": N_("Your message was added to the conversation."),
    "job_role_saved": N_("The job role's required skills were saved."),
    "proposed": N_("Your proposal was sent to the hub operators."),
}.items():
    register_notice(_notice, _text)
for _action, _words in {
    "micro_credential.submit": N_("submitted a micro-credential for review"),
    "micro_credential.approve": N_("approved a micro-credential"),
    "micro_credential.request_changes": N_("requested changes to a micro-credential"),
    "micro_credential.comment": N_("commented on the review of a micro-credential"),
    "course.submit": N_("submitted a course for review"),
    "course.approve": N_("approved a course"),
    "course.request_changes": N_("requested changes to a course"),
    "course.comment": N_("commented on the review of a course"),
    "job_role.submit": N_("submitted a job role for review"),
    "job_role.approve": N_("approved a job role"),
    "job_role.request_changes": N_("requested changes to a job role"),
    "job_role.comment": N_("commented on the review of a job role"),
}.items():
    register_action(_action, _words)
register_action("job_role.propose", N_("proposed a change to a job role"))
register_action("job_role.update", N_("changed a job role's required skills"))

KIND_PATHS = {"micro-credentials": "micro_credential", "courses": "course"}


# --- providers -------------------------------------------------------------------------------


@router.post(
    "/console/orgs/{slug}/{kind_path}/{entry_slug}/submit",
    response_class=HTMLResponse,
    dependencies=[CsrfDep],
)
def submit(
    request: Request,
    kind_path: str,
    entry_slug: str,
    access: IssuerDep,
    session: SessionDep,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    kind = KIND_PATHS.get(kind_path)
    if kind is None:
        raise NotFound("There is no such page.")
    back = f"/console/orgs/{access.organisation.slug}/catalogue"
    try:
        with session.begin_nested():
            submission = service.submit_as(
                session,
                access.user,
                access.organisation,
                kind,  # type: ignore[arg-type]  # one of KIND_PATHS' values
                entry_slug,
                note=note,
                address=access.address,
            )
    except (Conflict, InvalidInput) as exc:
        return render(
            request,
            "console/refused.html",
            {"message": exc.message, "back": back},
            me=access.me,
            organisation=access.organisation,
            status_code=409 if isinstance(exc, Conflict) else 422,
        )
    return RedirectResponse(f"{QUEUE}/{submission.id}?notice=submitted", status_code=303)


# --- the queue and one submission ------------------------------------------------------------


@router.get(QUEUE, response_class=HTMLResponse)
def queue(request: Request, me: OperatorDep, session: SessionDep) -> Response:
    items = service.queue_as(session, me.user)
    return render(request, "console/review_queue.html", {"items": items}, me=me)


def _submission_page(
    request: Request,
    me: Any,
    session: SessionDep,
    submission_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = service.view_as(session, me.user, submission_id)
    return render(
        request,
        "console/review_item.html",
        {"view": view, "error": error},
        me=me,
        organisation=None if view.is_operator else view.organisation,
        status_code=status_code,
    )


@router.get(QUEUE + "/{submission_id}", response_class=HTMLResponse)
def submission_page(
    request: Request, submission_id: int, me: ConsoleUserDep, session: SessionDep
) -> Response:
    return _submission_page(request, me, session, submission_id)


@router.post(QUEUE + "/{submission_id}/decide", response_class=HTMLResponse, dependencies=[CsrfDep])
def decide(
    request: Request,
    submission_id: int,
    me: OperatorDep,
    session: SessionDep,
    decision: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    if decision not in ("approve", "request_changes"):
        raise InvalidInput(N_("Choose: approve, or request changes."))
    try:
        with session.begin_nested():
            service.decide_as(
                session,
                me.user,
                submission_id,
                approve=decision == "approve",
                comment=comment,
                address=me.address,
            )
    except (Conflict, InvalidInput) as exc:
        return _submission_page(
            request, me, session, submission_id, error=exc.message, status_code=409
        )
    notice = "approved" if decision == "approve" else "changes_requested"
    return RedirectResponse(f"{QUEUE}/{submission_id}?notice={notice}", status_code=303)


@router.post(QUEUE + "/{submission_id}/reply", response_class=HTMLResponse, dependencies=[CsrfDep])
def reply(
    request: Request,
    submission_id: int,
    me: ConsoleUserDep,
    session: SessionDep,
    body: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        with session.begin_nested():
            service.reply_as(session, me.user, submission_id, body, address=me.address)
    except InvalidInput as exc:
        return _submission_page(
            request, me, session, submission_id, error=exc.message, status_code=422
        )
    return RedirectResponse(f"{QUEUE}/{submission_id}?notice=replied#conversation", status_code=303)


# --- job roles -------------------------------------------------------------------------------


def parse_skill_lines(text: str) -> list[dict[str, Any]]:
    """One skill a line: `IRI or slug [| level [| optional]]`."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        level = parts[1] if len(parts) > 1 and parts[1] else SkillLevel.practitioner.value
        optional = len(parts) > 2 and parts[2].lower() in ("optional", "no", "false")
        if len(parts) > 3:
            raise InvalidInput(f"line {number}: at most three parts (skill | level | optional)")
        found.append({"skill": parts[0], "level": level, "essential": not optional})
    return found


def skill_lines(session: SessionDep, role_key: str) -> str:
    role = skills.get_job_role(session, role_key)
    return "\n".join(
        f"{s.iri} | {s.level.value}" + ("" if s.essential else " | optional")
        for s in skills.required_skills(session, role)
    )


@router.get(JOB_ROLES, response_class=HTMLResponse)
def job_roles(request: Request, me: OperatorDep, session: SessionDep, page: int = 1) -> Response:
    found = skills.list_job_roles(session, page=max(1, min(page, 10_000)), per_page=50)
    return render(request, "console/job_roles.html", {"roles": found}, me=me)


def _role_page(
    request: Request,
    me: Any,
    session: SessionDep,
    role_key: str,
    *,
    action: str,
    text: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    organisation: Any = None,
) -> HTMLResponse:
    role = skills.get_job_role(session, role_key)
    return render(
        request,
        "console/job_role_form.html",
        {
            "role": role,
            "text": skill_lines(session, role_key) if text is None else text,
            "action": action,
            "error": error,
            "proposing": organisation is not None,
        },
        me=me,
        organisation=organisation,
        status_code=status_code,
    )


@router.get(JOB_ROLES + "/{role_key}", response_class=HTMLResponse)
def job_role(request: Request, role_key: str, me: OperatorDep, session: SessionDep) -> Response:
    return _role_page(request, me, session, role_key, action=f"{JOB_ROLES}/{role_key}")


@router.post(JOB_ROLES + "/{role_key}", response_class=HTMLResponse, dependencies=[CsrfDep])
def save_job_role(
    request: Request,
    role_key: str,
    me: OperatorDep,
    session: SessionDep,
    skill_text: Annotated[str, Form(max_length=60_000)] = "",
) -> Response:
    action = f"{JOB_ROLES}/{role_key}"
    try:
        with session.begin_nested():
            role = service.set_job_role_skills_as(
                session, me.user, role_key, parse_skill_lines(skill_text), address=me.address
            )
    except (InvalidInput, NotFound) as exc:
        if isinstance(exc, NotFound) and "job role" in exc.message:
            raise
        return _role_page(
            request,
            me,
            session,
            role_key,
            action=action,
            text=skill_text,
            error=exc.message,
            status_code=422,
        )
    return RedirectResponse(f"{JOB_ROLES}/{role.slug}?notice=job_role_saved", status_code=303)


PROPOSE = "/console/orgs/{slug}/job-roles/{role_key}/propose"


@router.get(PROPOSE, response_class=HTMLResponse)
def propose_page(
    request: Request, role_key: str, access: IssuerDep, session: SessionDep
) -> Response:
    action = PROPOSE.replace("{slug}", access.organisation.slug).replace("{role_key}", role_key)
    return _role_page(
        request, access.me, session, role_key, action=action, organisation=access.organisation
    )


@router.post(PROPOSE, response_class=HTMLResponse, dependencies=[CsrfDep])
def propose(
    request: Request,
    role_key: str,
    access: IssuerDep,
    session: SessionDep,
    skill_text: Annotated[str, Form(max_length=60_000)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    action = PROPOSE.replace("{slug}", access.organisation.slug).replace("{role_key}", role_key)
    try:
        with session.begin_nested():
            submission = service.propose_job_role_as(
                session,
                access.user,
                access.organisation,
                role_key,
                parse_skill_lines(skill_text),
                note=note,
                address=access.address,
            )
    except (InvalidInput, NotFound) as exc:
        # An unknown job role is a 404; anything else wrong is the form's to show.
        if isinstance(exc, NotFound) and "job role" in exc.message:
            raise
        return _role_page(
            request,
            access.me,
            session,
            role_key,
            action=action,
            text=skill_text,
            error=exc.message,
            status_code=422,
            organisation=access.organisation,
        )
    return RedirectResponse(f"{QUEUE}/{submission.id}?notice=proposed", status_code=303)
