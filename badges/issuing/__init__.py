"""Issuing: issuers and their keys (`issuers`), the credential and its signing (`service`),
bulk jobs from CSV/JSON (`bulk`)."""

from badges.issuing.issuers import create_issuer, did_document, find_issuer_by_did, get_issuer
from badges.issuing.service import (
    Recipient,
    Urls,
    awarded_micro_credential,
    build_achievement,
    build_credential,
    check_recipient,
    credential_uuid_of,
    find_credential,
    get_credential,
    issue,
    owned_credential,
    profile_document,
    signed_document,
)
from badges.issuing.vc_api import NonConformingCredential, issue_submitted

__all__ = [
    "NonConformingCredential",
    "Recipient",
    "Urls",
    "awarded_micro_credential",
    "build_achievement",
    "build_credential",
    "check_recipient",
    "create_issuer",
    "credential_uuid_of",
    "did_document",
    "find_credential",
    "find_issuer_by_did",
    "get_credential",
    "get_issuer",
    "issue",
    "issue_submitted",
    "owned_credential",
    "profile_document",
    "signed_document",
]
