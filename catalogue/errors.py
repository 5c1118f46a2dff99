"""Domain errors raised by the services; the web layer maps them to HTTP answers in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the caller can act on. `code` is stable; `message` is safe to show."""

    code = "error"
    status_code = 400

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    code = "invalid_input"
    status_code = 422


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class Unauthorized(DomainError):
    code = "unauthorized"
    status_code = 401


class Forbidden(DomainError):
    code = "forbidden"
    status_code = 403


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status_code = 413


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status_code = 415
