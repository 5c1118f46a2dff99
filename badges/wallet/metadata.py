"""Credential Issuer metadata (OpenID4VCI 1.0 §12.2) and Authorization Server metadata
(RFC 8414, with OpenID4VCI §12.3's pre-authorized grant parameter).

The hub is one Credential Issuer (its BASE_URL) and its own Authorization Server. Each
published micro-credential is offered in two Credential Configurations, with the catalogue's
title, description and badge image as display data:

- `{slug}_ldp_vc`: the Open Badges 3.0 credential with a Data Integrity `eddsa-rdfc-2022`
  proof (OpenID4VCI Appendix A.1.2);
- `{slug}_jwt_vc_json`: the same as a VC-JWT (Appendix A.1.1), signed with SKILLSHUB_JWT_ALGORITHM.

`OpenBadgeCredential_ldp_vc` / `_jwt_vc_json` cover a credential that awards none of the
catalogue's micro-credentials (signed through the VC-API). Slugs are `[a-z0-9-]`, so `_`
separates the parts without ambiguity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from catalogue.models import EntryState, MicroCredential
from openbadges_schemas.loader import (
    CREDENTIALS_V2,
    EU_MICROCREDENTIAL_V1,
    OB_EXTENSIONS,
    OB_V3P0_CONTEXT_303,
)

WalletFormat = Literal["ldp_vc", "jwt_vc_json"]
FORMATS: tuple[WalletFormat, ...] = ("ldp_vc", "jwt_vc_json")
# Our stored formats, by the OpenID4VCI format identifier.
STORED_FORMAT: dict[WalletFormat, Literal["ldp", "jwt"]] = {"ldp_vc": "ldp", "jwt_vc_json": "jwt"}
GENERIC = "OpenBadgeCredential"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
CONTEXTS = [CREDENTIALS_V2, OB_V3P0_CONTEXT_303, OB_EXTENSIONS, EU_MICROCREDENTIAL_V1]
PROOF_ALGORITHMS = ["ES256", "EdDSA"]  # what a holder may sign its key proof with
BINDING_METHODS = ["did:key", "jwk"]
# The drawn default badge's colours (badges.sharing.images): the catalogue has no others.
BACKGROUND_COLOR = "#1d4ed8"
TEXT_COLOR = "#ffffff"
HUB_NAME = "Skills Hub"
_MAX_DESCRIPTION = 300

TOKEN_PATH = "/oid4vci/token"
NONCE_PATH = "/oid4vci/nonce"
CREDENTIAL_PATH = "/oid4vci/credential"
OFFER_PATH = "/oid4vci/offers"


@dataclass(frozen=True)
class Configuration:
    """A Credential Configuration id, taken apart: the micro-credential (None: generic)."""

    slug: str | None
    format: WalletFormat

    @property
    def id(self) -> str:
        return f"{self.slug or GENERIC}_{self.format}"


def configuration_ids(slug: str | None) -> list[str]:
    return [Configuration(slug, fmt).id for fmt in FORMATS]


def parse_configuration_id(value: str) -> Configuration | None:
    """The configuration an id names, by its shape (whether it exists is the caller's)."""
    for fmt in FORMATS:
        suffix = f"_{fmt}"
        if value.endswith(suffix) and len(value) > len(suffix):
            head = value[: -len(suffix)]
            return Configuration(None if head == GENERIC else head, fmt)
    return None


def well_known_suffix(base_url: str) -> str:
    """The path part of the issuer identifier, put after the well-known name (§12.2.2)."""
    return urlsplit(base_url).path.rstrip("/")


def _display(mc: MicroCredential | None, base_url: str) -> list[dict[str, Any]]:
    if mc is None:
        return [
            {
                "name": "Open Badge",
                "description": "An Open Badges 3.0 credential",
                "background_color": BACKGROUND_COLOR,
                "text_color": TEXT_COLOR,
            }
        ]
    display: dict[str, Any] = {
        "name": mc.title,
        "logo": {
            "uri": f"{base_url}/micro-credentials/{mc.slug}/image",
            "alt_text": f"Badge: {mc.title}",
        },
    }
    if mc.description:
        text = " ".join(mc.description.split())
        if len(text) > _MAX_DESCRIPTION:
            text = text[: _MAX_DESCRIPTION - 1].rstrip() + "…"
        display["description"] = text
    display |= {"background_color": BACKGROUND_COLOR, "text_color": TEXT_COLOR}
    return [display]


def _claims() -> list[dict[str, Any]]:
    def claim(path: list[str], en: str, de: str) -> dict[str, Any]:
        return {
            "path": path,
            "display": [{"name": en, "locale": "en"}, {"name": de, "locale": "de"}],
        }

    return [
        claim(["credentialSubject", "achievement", "name"], "Achievement", "Leistung"),
        claim(["issuer", "name"], "Issued by", "Ausgestellt von"),
        claim(["validFrom"], "Awarded on", "Verliehen am"),
        claim(["validUntil"], "Valid until", "Gültig bis"),
    ]


def configuration(
    mc: MicroCredential | None, fmt: WalletFormat, base_url: str, jwt_algorithm: str
) -> dict[str, Any]:
    """One entry of `credential_configurations_supported`."""
    definition: dict[str, Any] = {"type": CREDENTIAL_TYPES}
    if fmt == "ldp_vc":
        definition = {"@context": CONTEXTS, **definition}
    return {
        "format": fmt,
        "credential_definition": definition,
        "credential_signing_alg_values_supported": (
            ["eddsa-rdfc-2022"] if fmt == "ldp_vc" else [jwt_algorithm]
        ),
        "cryptographic_binding_methods_supported": BINDING_METHODS,
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": PROOF_ALGORITHMS}},
        "credential_metadata": {"display": _display(mc, base_url), "claims": _claims()},
    }


def published_micro_credentials(session: Session) -> list[MicroCredential]:
    return list(
        session.exec(
            select(MicroCredential)
            .where(MicroCredential.state == EntryState.published.value)
            .order_by(col(MicroCredential.slug))
        )
    )


def issuer_metadata(session: Session, base_url: str, jwt_algorithm: str) -> dict[str, Any]:
    """The document at `/.well-known/openid-credential-issuer`."""
    configurations: dict[str, Any] = {}
    for mc in [None, *published_micro_credentials(session)]:
        for fmt in FORMATS:
            entry = configuration(mc, fmt, base_url, jwt_algorithm)
            configurations[Configuration(mc.slug if mc else None, fmt).id] = entry
    return {
        "credential_issuer": base_url,
        "credential_endpoint": f"{base_url}{CREDENTIAL_PATH}",
        "nonce_endpoint": f"{base_url}{NONCE_PATH}",
        "display": [{"name": HUB_NAME, "locale": "en"}],
        "credential_configurations_supported": configurations,
    }


def authorization_server_metadata(base_url: str) -> dict[str, Any]:
    """The document at `/.well-known/oauth-authorization-server` (RFC 8414 §2). Only the
    pre-authorized code grant, so no authorization endpoint and no `response_types_supported`
    (OpenID4VCI §12.2.4 allows leaving it out)."""
    return {
        "issuer": base_url,
        "token_endpoint": f"{base_url}{TOKEN_PATH}",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }
