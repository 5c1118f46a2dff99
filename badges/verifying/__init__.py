"""The verifier: input (`input`), fetching (`fetching`) and key resolution (`resolving`), proofs
(`proofs`), status lists (`status`), Europass credentials (`edc`), the report (`service`) and
skills proven by a set of badges (`proven_skills`)."""

from badges.verifying import vc_api
from badges.verifying.edc import EdcReport, is_edc, verification_report, verify_edc
from badges.verifying.fetching import Fetcher, FetchPolicy, PinnedDocuments, PinnedDocumentsError
from badges.verifying.input import Limits, UnrecognisedInput, parse_json
from badges.verifying.service import VerificationContext, VerifyOptions, verify

__all__ = [
    "EdcReport",
    "FetchPolicy",
    "Fetcher",
    "Limits",
    "PinnedDocuments",
    "PinnedDocumentsError",
    "UnrecognisedInput",
    "VerificationContext",
    "VerifyOptions",
    "is_edc",
    "parse_json",
    "vc_api",
    "verification_report",
    "verify",
    "verify_edc",
]
