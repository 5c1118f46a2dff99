"""The errors OAuth 2.0 (RFC 6749 §5.2, RFC 6750 §3.1) and OpenID4VCI 1.0 (§8.3.1) name.

Each class's `code` is the spec's `error` value; skillshub/web/errors.py answers them with
`{"error", "error_description"}` as those specs want, not the app's usual error body.
"""

from __future__ import annotations

from catalogue.errors import DomainError


class OAuthError(DomainError):
    """An error answered in the OAuth shape (400 unless a subclass says otherwise)."""

    code = "invalid_request"


# --- token endpoint (RFC 6749 §5.2, OpenID4VCI §6.3) ----------------------------------------


class InvalidTokenRequest(OAuthError):
    code = "invalid_request"


class InvalidGrant(OAuthError):
    """Unknown, expired or spent pre-authorized code, or a wrong transaction code."""

    code = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


# --- credential endpoint (RFC 6750 §3.1, OpenID4VCI §8.3.1) ---------------------------------


class InvalidAccessToken(OAuthError):
    """No access token, or not one of ours, or expired: 401 with WWW-Authenticate."""

    code = "invalid_token"


class InsufficientScope(OAuthError):
    """The access token does not cover the credential asked for (403)."""

    code = "insufficient_scope"


class InvalidCredentialRequest(OAuthError):
    code = "invalid_credential_request"


class UnknownCredentialConfiguration(OAuthError):
    code = "unknown_credential_configuration"


class UnknownCredentialIdentifier(OAuthError):
    code = "unknown_credential_identifier"


class InvalidProof(OAuthError):
    code = "invalid_proof"


class InvalidNonce(OAuthError):
    code = "invalid_nonce"


class CredentialRequestDenied(OAuthError):
    """The credential cannot be issued (revoked or suspended award): unrecoverable."""

    code = "credential_request_denied"


class OfferNotFound(OAuthError):
    """A credential offer URI that is unknown, expired or already redeemed (404)."""

    code = "offer_not_found"
