"""Rate limits: per client address on the public verifier, claim links, the learner's pages,
console sign-in (password, second factor, password links, invitations), password-reset
requests and failed API-token authentications; per API token on every authenticated write;
per e-mail address on failed console sign-ins and on reset requests; per user on wrong
second-factor codes.

Strategy: a moving window (`limits`' MovingWindowRateLimiter). A client never gets more than N
hits within any span of the period, where a fixed window lets it spend 2N across a window
boundary (N at the end of one window, N at the start of the next) — the burst these limits are
there to stop. The cost is one timestamp per hit kept for the period (in Redis, a list of at most
N entries per key), small at these limits, and Retry-After is exact: when the oldest hit expires.

Storage: memory (one budget per process) or Redis (one budget for every worker and host). When
Redis does not answer, the limiter falls back to its in-memory budget rather than failing open:
an outage must not switch off the guard against token guessing and verifier floods (it becomes
per process, so N workers allow N times the limit). It logs one warning per outage and tries
Redis again after `REDIS_RETRY_SECONDS`, so a dead Redis costs one timeout per retry interval,
not one per request.

The client address is `request.client.host`: the peer of the socket, or behind a proxy listed
in SKILLSHUB_TRUSTED_PROXIES the client it forwarded for (`skillshub.web.proxies`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from enum import StrEnum

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from catalogue.errors import Unauthorized
from catalogue.models import Organisation
from keys.tokens import authenticate_token, token_organisation
from skillshub.metrics import RATE_LIMITED
from skillshub.settings import Settings

log = logging.getLogger("skillshub.rate_limits")

REDIS_RETRY_SECONDS = 30.0
# Short: the limiter sits in front of every limited request, a slow Redis must not stall them.
REDIS_TIMEOUT_SECONDS = 0.5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RateClass(StrEnum):
    VERIFY = "verify"
    CLAIM = "claim"
    AUTH_FAILURES = "auth_failures"
    WRITE = "write"
    SIGN_IN = "sign_in"  # per address: every console sign-in attempt and password link
    SIGN_IN_EMAIL = "sign_in_email"  # per e-mail address: failed sign-ins (spent in the route)
    SIGN_IN_CODE = "sign_in_code"  # per user: wrong second-factor codes (spent in the route)
    PASSWORD_RESET = "password_reset"  # per address: password-reset requests
    PASSWORD_RESET_EMAIL = "password_reset_email"  # per e-mail address asked for (in the route)
    BACKPACK_SIGN_IN = "backpack_sign_in"  # per address: backpack sign-in links asked for, opened
    BACKPACK_SIGN_IN_EMAIL = "backpack_sign_in_email"  # per e-mail address (in the route)


# The per-address budget of each limited route, by method and path template: one table for the
# whole app (the tests call every entry's route, so a renamed route fails them rather than
# silently losing its limit). `POST /api/v1/gap` and the `POST /gap` page spend from VERIFY in
# the route, only when they carry credentials; API-token routes are limited in
# `authenticate_request`.
PER_ADDRESS_ROUTES: dict[tuple[str, str], RateClass] = {
    ("GET", "/verify"): RateClass.VERIFY,  # with ?url= only: the bare form costs nothing
    ("POST", "/verify"): RateClass.VERIFY,
    ("POST", "/api/v1/verify"): RateClass.VERIFY,
    ("POST", "/credentials/verify"): RateClass.VERIFY,
    ("POST", "/presentations/verify"): RateClass.VERIFY,
    ("GET", "/credentials/{credential_id}/claim"): RateClass.CLAIM,
    ("POST", "/credentials/{credential_id}/claim"): RateClass.CLAIM,
    ("GET", "/credentials/{credential_id}/manage"): RateClass.CLAIM,
    ("POST", "/credentials/{credential_id}/manage/visibility"): RateClass.CLAIM,
    ("POST", "/credentials/{credential_id}/manage/forget"): RateClass.CLAIM,
    ("POST", "/credentials/{credential_id}/manage/sign-out-everywhere"): RateClass.CLAIM,
    # OpenID4VCI: the learner's offer, and the wallet's steps (a whole flow is 4-5 requests)
    ("POST", "/credentials/{credential_id}/manage/wallet"): RateClass.CLAIM,
    ("GET", "/oid4vci/offers/{code}"): RateClass.CLAIM,
    ("POST", "/oid4vci/token"): RateClass.CLAIM,
    ("POST", "/oid4vci/nonce"): RateClass.CLAIM,
    ("POST", "/oid4vci/credential"): RateClass.CLAIM,
    ("POST", "/console/login"): RateClass.SIGN_IN,
    ("POST", "/console/set-password"): RateClass.SIGN_IN,
    ("POST", "/console/login/code"): RateClass.SIGN_IN,
    ("POST", "/console/reset-password/new"): RateClass.SIGN_IN,
    ("POST", "/console/invite"): RateClass.SIGN_IN,
    ("POST", "/console/reset-password"): RateClass.PASSWORD_RESET,
    ("POST", "/backpack/sign-in"): RateClass.BACKPACK_SIGN_IN,
    ("GET", "/backpack/sign-in/link"): RateClass.BACKPACK_SIGN_IN,
    ("POST", "/backpack/sign-in/link"): RateClass.BACKPACK_SIGN_IN,
    ("POST", "/backpack/import"): RateClass.VERIFY,
    # Pages that verify imported badges again, or bake every badge into a zip.
    ("GET", "/backpack"): RateClass.CLAIM,
    ("GET", "/backpack/badges/{key}"): RateClass.CLAIM,
    ("GET", "/backpack/download"): RateClass.CLAIM,
    ("GET", "/profiles/{handle}/badges/{key}"): RateClass.CLAIM,
}


class RateLimited(HTTPException):
    """429 with Retry-After; errors.py renders it as the JSON error body or the error page."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            429,
            f"too many requests; try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )


class RateLimiter:
    """The app's budgets, one set of limits per RateClass, kept in memory or in Redis."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.limits: dict[RateClass, list[RateLimitItem]] = {
            rate_class: parse_many(getattr(settings, f"rate_limit_{rate_class}"))
            for rate_class in RateClass
        }
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        uri = settings.rate_limit_storage
        if not uri.startswith("memory:"):
            storage = storage_from_string(
                uri,
                key_prefix="skillshub",
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._shared = MovingWindowRateLimiter(storage)
        self._shared_down_until = 0.0

    @property
    def shared(self) -> bool:
        """Budgets kept in a shared store (Redis): spending one is a network round trip."""
        return self._shared is not None

    def _strategy(self) -> MovingWindowRateLimiter:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._memory

    def _shared_failed(self, exc: StorageError) -> None:
        if self._shared_down_until == 0.0:
            log.warning(
                "rate-limit storage unreachable (%s); using per-process budgets until it "
                "answers again",
                type(exc.storage_error).__name__,
            )
        self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def _run(self, rate_class: RateClass, key: str, spend: bool) -> None:
        if not self.enabled:
            return
        strategy = self._strategy()
        try:
            self._apply(strategy, rate_class, key, spend)
        except StorageError as exc:
            self._shared_failed(exc)
            self._apply(self._memory, rate_class, key, spend)
            return
        if strategy is self._shared and self._shared_down_until:
            log.info("rate-limit storage answers again; budgets are shared again")
            self._shared_down_until = 0.0

    def _apply(
        self, strategy: MovingWindowRateLimiter, rate_class: RateClass, key: str, spend: bool
    ) -> None:
        act = strategy.hit if spend else strategy.test
        for item in self.limits[rate_class]:
            if not act(item, rate_class, key):
                if spend:
                    RATE_LIMITED.labels(rate_class=rate_class.value).inc()
                reset = strategy.get_window_stats(item, rate_class, key).reset_time
                raise RateLimited(max(1, math.ceil(reset - time.time())))

    def hit(self, rate_class: RateClass, key: str) -> None:
        """Spend one from `key`'s budget; RateLimited when it is spent already."""
        self._run(rate_class, key, spend=True)

    def check(self, rate_class: RateClass, key: str) -> None:
        """RateLimited when `key`'s budget is spent; spends nothing."""
        self._run(rate_class, key, spend=False)


def client_address(request: Request) -> str:
    """The budget holder: the peer's IPv4 address, or its IPv6 /64 (one subscriber's usual
    allocation; counting single IPv6 addresses would give each of them 2**64 budgets)."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network((address, 64), strict=False))
    return str(address)


def limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


def spend_per_address(request: Request, rate_class: RateClass) -> None:
    limiter(request).hit(rate_class, client_address(request))


async def limit_route(request: Request) -> None:
    """App-wide dependency: spends the matched route's per-address budget, if it has one."""
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    rate_class = PER_ADDRESS_ROUTES.get((method, getattr(route, "path", "")))
    if rate_class is None:
        return
    if rate_class is RateClass.VERIFY and method == "GET" and not request.query_params.get("url"):
        return
    rates = limiter(request)
    if not rates.enabled:
        return
    if not rates.shared:  # in this process's memory: spent here, without a thread hop
        spend_per_address(request, rate_class)
        return
    # Off the event loop: with Redis, spending is a network round trip.
    await run_in_threadpool(spend_per_address, request, rate_class)


def authenticate_request(request: Request, session: Session, token: str | None) -> Organisation:
    """`authenticate`, guarded: an address that sent too many bad tokens gets 429 before the
    lookup, and each authenticated write spends from its token's budget. The token's row is
    kept in `request.state.api_token` (who acted, for the audit log)."""
    rates = limiter(request)
    address = client_address(request)
    if token:  # a missing token costs no lookup
        rates.check(RateClass.AUTH_FAILURES, address)
    try:
        record = authenticate_token(session, token)
    except Unauthorized:
        if token:
            rates.hit(RateClass.AUTH_FAILURES, address)
        raise
    # Who acts, for the audit log (skillshub.web.deps.api_actor).
    request.state.api_token = record
    org = token_organisation(session, record)
    if token and request.method not in SAFE_METHODS:
        # Keyed by a digest: the budget store (Redis) never holds a usable token.
        rates.hit(RateClass.WRITE, hashlib.sha256(token.encode()).hexdigest())
    return org
