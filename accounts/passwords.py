"""Password hashing: Argon2id with the RFC 9106 low-memory parameters (t=3, m=64 MiB, p=4),
through argon2-cffi. Checking an address that has no user costs the same work (a dummy hash),
so the time of an answer does not tell whether the address exists."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from catalogue.errors import InvalidInput

MIN_LENGTH = 12
# Argon2 takes any length; a bound keeps a request's work bounded all the same.
MAX_LENGTH = 1024

hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
# Verified against when the user is unknown (or has no password yet); matches nothing typed.
_DUMMY_HASH = hasher.hash("no user has this password: it only spends the same time")


class WeakPassword(InvalidInput):
    code = "weak_password"


def check_new_password(password: str) -> None:
    """Refuse a password that is too short or long; length is the rule that matters (NIST
    SP 800-63B): no composition rules."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"The password must have at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"The password must have at most {MAX_LENGTH} characters.")


def hash_password(password: str) -> str:
    check_new_password(password)
    return hasher.hash(password)


def rehash(password: str) -> str:
    """A fresh hash of a password that was already accepted (no length rule: it is in use)."""
    return hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; with no stored hash, the same work and False."""
    candidate = password[:MAX_LENGTH]
    try:
        return hasher.verify(stored or _DUMMY_HASH, candidate) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when `stored` was made with other parameters than today's (upgrade at sign-in)."""
    return hasher.check_needs_rehash(stored)
