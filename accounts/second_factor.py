"""The optional second factor: time-based one-time codes (TOTP, RFC 6238) from an
authenticator app, and the sign-in step that asks for one after the password.

- The secret is random (160 bits, pyotp), stored sealed with the master key (keys.sealing,
  key id `totp:<user id>`), never in clear. Enrolment stores it at once but it is in force
  only after the user has typed a first code from it (`confirm_enrolment`), so a setup that
  was never finished cannot lock anybody out.
- Codes: SHA-1, 6 digits, 30-second steps (what every authenticator app reads from the
  `otpauth://` URI); the step before and after the current one are accepted for clocks that
  drift. A code is good once: the step of the last accepted code is kept, and a code of that
  step or an earlier one is refused (RFC 6238 section 5.2). The check is a compare-and-set
  UPDATE, so two parallel requests with the same code cannot both pass.
- Sign-in with a second factor: a correct password gives a short-lived *challenge* (a random
  token in a cookie, its SHA-256 in `sign_in_challenge`), not a session; the right code
  spends the challenge (compare-and-set) and only then is a session started.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from accounts.models import SignInChallenge, User
from accounts.sessions import hash_token
from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput, Unauthorized
from keys.sealing import MasterKey, SealingError
from keys.store import KeyStoreError

ISSUER_NAME = "Skills Hub"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
CHALLENGE_TTL = timedelta(minutes=5)
_CODE = re.compile(rf"\d{{{DIGITS}}}")
_MAX_TOKEN_LENGTH = 100


class WrongCode(InvalidInput):
    """A code that is malformed, not the current one, or used already."""

    code = "wrong_code"


class SecondFactorState(Conflict):
    """Enrolment or removal asked for in the wrong state (on already, not on, not started)."""

    code = "second_factor_state"


class ChallengeInvalid(Unauthorized):
    """The sign-in step after the password is missing, expired or spent: sign in again."""

    code = "sign_in_challenge_invalid"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _key_id(user: User) -> str:
    return f"totp:{pk(user)}"


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def _secret(user: User, master_key: MasterKey) -> str:
    if user.totp_secret is None:
        raise SecondFactorState("No authenticator app is set up for this account.")
    try:
        return master_key.unseal(user.totp_secret, key_id=_key_id(user)).decode("ascii")
    except SealingError as exc:
        raise KeyStoreError(
            f"the second-factor secret of user {user.id} cannot be opened: {exc}"
        ) from None


# --- enrolment ------------------------------------------------------------------------------


def begin_enrolment(session: Session, user: User, master_key: MasterKey) -> str:
    """A new secret for the user's authenticator app (replacing an unfinished one); not in
    force until `confirm_enrolment`. Returns it in base32, for the QR code and manual entry."""
    if enabled(user):
        raise SecondFactorState(
            "An authenticator app is set up already. Turn it off first to set up another one."
        )
    secret = pyotp.random_base32()
    user.totp_secret = master_key.seal(secret.encode("ascii"), key_id=_key_id(user))
    user.totp_last_step = None
    session.add(user)
    session.flush()
    return secret


def pending_secret(user: User, master_key: MasterKey) -> str | None:
    """The secret of an enrolment that was started and not confirmed yet, else None."""
    if enabled(user) or user.totp_secret is None:
        return None
    return _secret(user, master_key)


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://totp/…` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER_NAME
    )


def confirm_enrolment(
    session: Session, user: User, master_key: MasterKey, code: str, *, now: datetime | None = None
) -> None:
    """Turn the second factor on, once a code from the new secret proves the app has it."""
    if enabled(user):
        raise SecondFactorState("An authenticator app is set up already.")
    if user.totp_secret is None:
        raise SecondFactorState("Start the set-up first: the page shows a QR code to scan.")
    verify_code(session, user, master_key, code, now=now)
    user.totp_enabled_at = _now(now)
    session.add(user)
    session.flush()


def disable(session: Session, user: User) -> None:
    """Turn the second factor off (the caller checked a current code or the password)."""
    if user.totp_secret is None:
        raise SecondFactorState("No authenticator app is set up for this account.")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.add(user)
    session.flush()


# --- codes ----------------------------------------------------------------------------------


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    matched = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Every candidate is compared (no early exit): the time taken says nothing.
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    return matched


def verify_code(
    session: Session, user: User, master_key: MasterKey, code: str, *, now: datetime | None = None
) -> int:
    """Accept a current code once; WrongCode otherwise. Returns the code's time step."""
    code = re.sub(r"[\s-]", "", code or "")
    if not _CODE.fullmatch(code):
        raise WrongCode(f"Enter the {DIGITS}-digit code your authenticator app shows.")
    step = _matching_step(_secret(user, master_key), code, _now(now))
    if step is None:
        raise WrongCode(
            "This code is not right. Type the code your authenticator app shows now "
            "(the phone's clock must be right)."
        )
    accepted = session.execute(
        update(User)
        .where(
            col(User.id) == pk(user),
            or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    if accepted.rowcount != 1:  # type: ignore[attr-defined]
        raise WrongCode("This code was used already. Wait for the next code from your app.")
    return step


# --- the sign-in step after the password --------------------------------------------------


def start_challenge(
    session: Session, user: User, *, ttl: timedelta = CHALLENGE_TTL, now: datetime | None = None
) -> str:
    """A challenge for a user whose password was right: the token (for the cookie), once."""
    now = _now(now)
    token = secrets.token_urlsafe(32)
    session.add(
        SignInChallenge(
            token_hash=hash_token(token), user_id=pk(user), created_at=now, expires_at=now + ttl
        )
    )
    session.flush()
    return token


def _live_challenge(session: Session, token: str | None, now: datetime) -> SignInChallenge:
    row = None
    if token and len(token) <= _MAX_TOKEN_LENGTH:
        row = session.exec(
            select(SignInChallenge).where(SignInChallenge.token_hash == hash_token(token))
        ).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise ChallengeInvalid("Your sign-in took too long or was finished already. Sign in again.")
    return row


def challenge_user(session: Session, token: str | None, *, now: datetime | None = None) -> User:
    """The user a live challenge is for; ChallengeInvalid otherwise."""
    row = _live_challenge(session, token, _now(now))
    user = session.get(User, row.user_id)
    if user is None or not enabled(user):  # turned off meanwhile: the password was enough
        raise ChallengeInvalid("Sign in again.")
    return user


def spend_challenge(session: Session, token: str, *, now: datetime | None = None) -> None:
    """Mark the challenge used (compare-and-set: a parallel request that spent it wins)."""
    now = _now(now)
    spent = session.execute(
        update(SignInChallenge)
        .where(
            col(SignInChallenge.token_hash) == hash_token(token),
            col(SignInChallenge.used_at).is_(None),
            col(SignInChallenge.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise ChallengeInvalid("This sign-in was finished already. Sign in again.")
