"""Issue one badge: a form (micro-credential, learner's name and e-mail, optional grade and
evidence) → a preview of the credential to be signed and of the claim e-mail → issue.

The form carries a hidden idempotency token, drawn when the form is shown: submitting it
twice (a double click, a reload, the back button) leads to the badge issued the first time
(badges.issuing.idempotency), never to a second one.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from accounts import credentials
from accounts.roles import Role
from badges import issuing
from badges.issuing.idempotency import IdempotencyKeyReused
from badges.sharing import delivery
from catalogue.errors import Conflict, DomainError, InvalidInput
from skillshub.db import writer
from skillshub.web.console import nav
from skillshub.web.console.auth import IssuerDep, OrgAccess
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep, SettingsDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)
PATH = "/console/orgs/{slug}/issue"

nav.register(N_("Issue badges"), PATH, needs=Role.issuer, order=20)
register_notice(
    "issued", N_("The badge is issued. The claim e-mail is on its way; its delivery shows below.")
)
register_notice(
    "issued_before",
    N_("This form was sent before, so nothing new was issued: this is the badge it issued then."),
)
register_action("credential.issue", N_("issued a badge"))


class IssueForm(BaseModel):
    micro_credential: str = ""
    issuer: str = ""
    given_name: str = ""
    family_name: str = ""
    name: str = ""
    email: str = ""
    contact_consent: bool = False
    grade: str = ""
    evidence_url: str = ""
    evidence_narrative: str = ""
    idempotency_key: str = ""
    step: str = "preview"  # preview | edit | issue

    def recipient(self) -> issuing.Recipient:
        return issuing.Recipient(
            name=self.name,
            given_name=self.given_name or None,
            family_name=self.family_name or None,
            email=self.email,
            contact_consent=self.contact_consent,
            grade=self.grade or None,
            evidence_url=self.evidence_url or None,
            evidence_narrative=self.evidence_narrative or None,
        )


def field_errors(exc: DomainError) -> dict[str, str]:
    """A domain error as the form shows it: next to its field when it names one."""
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    message = exc.message
    if field and message.startswith(f"{field}: "):
        message = message[len(field) + 2 :]
        message = message[:1].upper() + message[1:]
    return {str(field or "form"): message}


def _page(
    request: Request,
    access: OrgAccess,
    session: Any,
    form: IssueForm,
    *,
    errors: dict[str, str] | None = None,
    preview: credentials.IssuePreview | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "form": form,
        "errors": errors or {},
        "preview": preview,
        "credential_json": json.dumps(preview.credential, indent=2, ensure_ascii=False)
        if preview
        else None,
        "micro_credentials": credentials.micro_credentials_of(session, access.organisation),
        "issuers": credentials.issuers_of(session, access.organisation),
    }
    return render(
        request,
        "console/issue_one.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
def issue_form(
    request: Request, access: IssuerDep, session: SessionDep, micro_credential: str = ""
) -> Response:
    form = IssueForm(micro_credential=micro_credential, idempotency_key=str(uuid.uuid4()))
    return _page(request, access, session, form)


@router.post(PATH, response_class=HTMLResponse, dependencies=[CsrfDep])
def issue_post(
    request: Request,
    access: IssuerDep,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    background: BackgroundTasks,
    form: Annotated[IssueForm, Form()],
) -> Response:
    """ "preview": check and show what will be issued; "edit": back to the form, as typed;
    "issue": issue (once per form)."""
    if not form.idempotency_key:
        form.idempotency_key = str(uuid.uuid4())
    if form.step == "edit":
        return _page(request, access, session, form)
    org = access.organisation
    try:
        issuer = credentials.choose_issuer(session, org, form.issuer or None)
        mc = credentials.choose_micro_credential(session, org, form.micro_credential)
        if form.step != "issue":
            preview = credentials.preview_as(
                session,
                access.user,
                org,
                settings,
                issuer=issuer,
                micro_credential=mc,
                recipient=form.recipient(),
            )
            return _page(request, access, session, form, preview=preview)
        issued = credentials.issue_as(
            session,
            access.user,
            org,
            master_key,
            issuer=issuer,
            micro_credential=mc,
            recipient=form.recipient(),
            key=f"console:{form.idempotency_key}",
            base_url=settings.base_url,
            address=access.address,
            status_purposes=settings.status_purposes,
        )
    except IdempotencyKeyReused as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        message = N_(
            "This form already issued a badge, to someone else or with other details. "
            "Start a new form to issue another badge."
        )
        errors = {"form": message, "issued": str(details.get("credential", ""))}
        form.idempotency_key = str(uuid.uuid4())
        return _page(request, access, session, form, errors=errors, status_code=409)
    except (InvalidInput, Conflict) as exc:
        return _page(request, access, session, form, errors=field_errors(exc), status_code=422)
    if not issued.replayed:
        background.add_task(
            delivery.deliver_committed,
            writer(request.app.state.engine),
            settings,
            issued.record.uuid,
        )
    notice = "issued_before" if issued.replayed else "issued"
    return RedirectResponse(
        f"/console/orgs/{org.slug}/credentials/{issued.record.uuid}?notice={notice}",
        status_code=303,
    )
