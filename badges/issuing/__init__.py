"""Issuing: issuers and their keys (`issuers`), the credential and its signing (`service`),
bulk jobs from CSV/JSON (`bulk`)."""

from badges.issuing.issuers import create_issuer, did_document, find_issuer_by_did, get_issuer
from badges.issuing.service import (
    Recipient,
    Urls,
    build_achievement,
    build_credential,
    check_recipient,
    find_credential,
    get_credential,
    issue,
    owned_credential,
    profile_document,
    sign_submitted,
    signed_document,
)

__all__ = [
    "Recipient",
    "Urls",
    "build_achievement",
    "build_credential",
    "check_recipient",
    "create_issuer",
    "did_document",
    "find_credential",
    "find_issuer_by_did",
    "get_credential",
    "get_issuer",
    "issue",
    "owned_credential",
    "profile_document",
    "sign_submitted",
    "signed_document",
]
