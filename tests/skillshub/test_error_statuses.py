"""Domain errors carry no HTTP status; skillshub/web/errors.py maps every one of them. The table
below is the contract: the statuses the classes' own `status_code` attributes gave before the
mapping moved to the web layer (issue 12), so no HTTP answer changed."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from catalogue.errors import DomainError
from skillshub.web.errors import http_status

# (class name, status) as before the move; a new error class must be added here on purpose.
BEFORE = {
    "DomainError": 400,
    "EuropassIncomplete": 422,
    "DuplicateExternalId": 409,
    "ClaimExpired": 410,
    "ClaimNotFound": 404,
    "ClaimUsed": 403,
    "ImageRejected": 422,
    "MailError": 502,
    "TimestampUnavailable": 502,
    "StatusError": 409,
    "FetchLimitReached": 422,
    "FetchError": 422,
    "FetchTimeout": 422,
    "UrlRefused": 422,
    "MalformedInput": 400,
    "TooComplex": 422,
    "UnrecognisedInput": 422,
    "Conflict": 409,
    "Forbidden": 403,
    "InvalidInput": 422,
    "NotFound": 404,
    "PayloadTooLarge": 413,
    "Unauthorized": 401,
    "UnsupportedMediaType": 415,
    "EscoImportError": 422,
    "UnknownConcept": 422,
    "SealCertificateError": 422,
    "SealCertificateExpired": 422,
    "KeyStoreError": 503,
    "DatabaseError": 503,
    # Operations (skillshub/ops): raised by CLI commands only; the defaults of their bases.
    "BackupError": 400,
    "RestoreRefused": 409,
    "RotationError": 400,
    "VerifierSettingsError": 503,
    "NotAcceptable": 406,
    # OpenID4VCI / OAuth 2.0 (badges.wallet.errors): the specs' statuses
    "OAuthError": 400,
    "InvalidTokenRequest": 400,
    "InvalidGrant": 400,
    "UnsupportedGrantType": 400,
    "InvalidAccessToken": 401,
    "InsufficientScope": 403,
    "InvalidCredentialRequest": 400,
    "UnknownCredentialConfiguration": 400,
    "UnknownCredentialIdentifier": 400,
    "InvalidProof": 400,
    "InvalidNonce": 400,
    "CredentialRequestDenied": 400,
    "OfferNotFound": 404,
    "CrossSiteRequest": 403,
    "CsrfTokenInvalid": 403,
    # accounts (the provider console)
    "NotAMember": 403,
    "RoleTooLow": 403,
    "SignInFailed": 401,
    "SignInRequired": 401,  # a browser is redirected to /console/login instead
    "WeakPassword": 422,
    "PasswordLinkInvalid": 404,
    "WrongCode": 422,
    "SecondFactorState": 409,
    "ChallengeInvalid": 401,
    "LastOwner": 409,
    "InvitationInvalid": 404,
    "InvitationForSomeoneElse": 403,
    "AuditFilterInvalid": 422,
    "SealPasswordWrong": 422,
    # the catalogue editor: every field problem at once; drafts are not issued
    "FieldErrors": 422,
    "DraftNotIssuable": 409,
    # Issue 15: VC-API answers a request it cannot honour as given with 400, problem details.
    "BadIssueRequest": 400,
    "NonConformingCredential": 400,
    # issuing from the console (issue 13)
    "IdempotencyKeyReused": 422,
    "SpreadsheetError": 422,
    "UploadGone": 404,
    "CredentialRevoked": 409,
    # the learner's backpack (issue 17)
    "SignInLinkInvalid": 404,
    "ImportRefused": 422,
    "BackpackFull": 409,
    "HandleTaken": 409,
    # issue 20: hub operators, the review workflow, endorsements, graduates' reviews
    "OperatorRequired": 403,
    "OwnSubmission": 403,
    "ReviewRequired": 409,
    "UnderReview": 409,
    "ReviewConflict": 409,
    "SelfEndorsement": 403,
    "EndorsementRevoked": 409,
    "NotAGraduate": 403,
}


def _import_everything() -> None:
    """Import every module of the project's packages, so every DomainError subclass exists."""
    for name in (
        "accounts",
        "backpack",
        "catalogue",
        "badges",
        "keys",
        "skillshub",
        "openbadges_schemas",
    ):
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)


def _subclasses(cls: type) -> Iterator[type]:
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        yield sub
        yield from _subclasses(sub)


def _project_errors() -> set[type[DomainError]]:
    _import_everything()
    project = (
        "accounts.",
        "backpack.",
        "catalogue.",
        "badges.",
        "keys.",
        "skillshub.",
        "openbadges_schemas.",
    )
    return {DomainError} | {c for c in _subclasses(DomainError) if c.__module__.startswith(project)}


def test_every_domain_error_maps_to_its_former_status() -> None:
    errors = _project_errors()
    assert {c.__name__ for c in errors} == set(BEFORE), "add the new error class to BEFORE"
    for cls in errors:
        # __new__ only: the mapping reads the class, and some constructors want domain objects.
        assert http_status(cls.__new__(cls)) == BEFORE[cls.__name__], cls


def test_domain_errors_carry_no_http_status() -> None:
    # The domain says what went wrong; only the web layer knows HTTP.
    assert [c for c in _project_errors() if "status_code" in vars(c)] == []


def test_a_new_subclass_takes_its_nearest_ancestors_status() -> None:
    from catalogue.errors import NotFound

    class NoSuchThing(NotFound):
        code = "no_such_thing"

    assert http_status(NoSuchThing("x")) == 404
