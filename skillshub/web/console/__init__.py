"""The provider console (`/console`): pages for training-provider staff.

One module per area, each with its own `router` and its navigation entries (`nav.register`).
A new area: write `skillshub/web/console/AREA.py` and add it to `_MODULES` below; see
/work/notes/console-api.md (and auth.py) for the dependencies, roles and audit pattern.
"""

from fastapi import APIRouter

from skillshub.web.console import (
    audit_log,
    catalogue,
    endorsements,
    graduate_reviews,
    home,
    hub,
    identity,
    invitations,
    issue_many,
    issue_one,
    organisation,
    password_reset,
    recipients,
    review,
    second_step,
    security,
    service_words,  # noqa: F401  (registers the services' words for the pages)
    sign_in,
    tokens,
)

_MODULES = (
    sign_in,
    home,
    hub,
    review,
    catalogue,
    issue_one,
    issue_many,
    recipients,
    second_step,
    security,
    password_reset,
    organisation,
    invitations,
    tokens,
    identity,
    endorsements,
    graduate_reviews,
    audit_log,
)

router = APIRouter(include_in_schema=False)
for _module in _MODULES:
    router.include_router(_module.router)

__all__ = ["router"]
