"""Domain errors raised by the services: what went wrong (`code`, `message`), never an HTTP
status. `skillshub/web/errors.py` alone maps them to HTTP answers, the CLI to exit codes."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the caller can act on. `code` is stable; `message` is safe to show."""

    code = "error"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
