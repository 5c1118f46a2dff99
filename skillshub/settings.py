"""The one settings object, read from `SKILLSHUB_*` environment variables (and `.env`)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MASTER_KEY_FILE = "master.key"


def metrics_bind(value: str) -> tuple[str, int] | None:
    """HOST:PORT (an IPv6 host in brackets) as (host, port); None for anything else."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SKILLSHUB_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in DATA_DIR"
    )
    base_url: str = "http://127.0.0.1:8000"
    # Host names the app answers to (the Host header), a JSON list; "*.example.org" matches
    # subdomains. Default: BASE_URL's host plus localhost, 127.0.0.1 and testserver.
    allowed_hosts: tuple[str, ...] | None = None
    master_key: str | None = Field(
        default=None,
        repr=False,
        description="Encrypts issuer private keys at rest; default: DATA_DIR/master.key",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 5 * 1024 * 1024
    max_json_depth: int = 64
    pinned_documents: Path | None = None
    # PEM bundle of the certificates a Europass seal's chain must end in (e.g. the EU trusted
    # list's CA certificates); without it the chain check is a warning.
    seal_trust_anchors: Path | None = None
    # RFC 3161 time-stamping authority for Europass seals: with it seals are JAdES-B-T
    # (a signature timestamp), without it JAdES-B-B.
    tsa_url: str | None = None
    # With a TSA: embed the seal certificate chain's CRLs (fetched from its CRL distribution
    # points, bounded and SSRF-safe, or pinned in SKILLSHUB_PINNED_DOCUMENTS) for JAdES-B-LT.
    seal_revocation: bool = True
    # Trust lists (a JSON list of files): issuers the operator vouches for besides this hub's
    # registered providers; ours or the DCC registry format (docs/trust-lists.md).
    trust_lists: tuple[Path, ...] = ()
    allow_http_localhost: bool = False
    fetch_timeout_seconds: float = 5.0
    fetch_max_bytes: int = 2 * 1024 * 1024
    fetch_offline: bool = False  # verify with pinned documents and the database only (air-gapped)
    fetch_failure_cache_seconds: float = Field(default=60.0, ge=0)
    # Bounded work per verification (a credential, its endorsements and what they need; the
    # skills gap shares one budget among the credentials of a request).
    verify_budget_seconds: float = Field(default=5.0, gt=0)
    verify_max_proofs: int = Field(default=8, ge=1)
    verify_max_endorsements: int = Field(default=16, ge=0)
    verify_max_fetches: int = Field(default=8, ge=0)
    # Verifications canonicalizing at once (CPU work: under the GIL more only slows the rest).
    verify_concurrency: int = Field(default=1, ge=1)
    # Bulk jobs (skillshub.jobs). On PostgreSQL the process that starts a job (web, CLI) also
    # works procrastinate's queue until it is empty; set false when `skillshub worker`
    # processes do that work. SQLite always runs jobs in-process.
    jobs_in_process: bool = True
    # A worker silent (no heartbeat) this long is taken for dead: its chunks are re-enqueued.
    jobs_stalled_after_seconds: float = Field(default=30.0, ge=1)
    email_backend: str = "file"  # file | console | smtp
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_from: str = "Skills Hub <no-reply@skillshub.local>"
    claim_token_ttl_hours: int = 24 * 30
    # How long a claimed badge stays manageable from one browser before the learner needs a
    # fresh claim link; lowering it also ends older sessions (checked at every request).
    learner_session_days: int = Field(default=30, ge=1, le=3650)
    # OpenID4VCI: a credential offer's pre-authorized code, the access token it buys, a c_nonce.
    wallet_offer_minutes: int = Field(default=10, ge=1, le=24 * 60)
    wallet_token_seconds: int = Field(default=300, ge=30, le=3600)
    wallet_nonce_seconds: int = Field(default=300, ge=30, le=3600)
    # Publishing needs a hub operator's approval (issue 20: draft -> submitted -> published);
    # off for a single-provider deployment, where a provider publishes itself.
    require_review: bool = False
    log_level: str = "INFO"
    # Log lines as text or one JSON object per line (docs/OPERATIONS.md); both carry the
    # request id and never a secret, token or clear e-mail address.
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # /metrics (Prometheus text format): "off", "on" (served by the app), or HOST:PORT for a
    # separate listener only the scraper reaches.
    metrics: str = "off"
    # Reverse proxies whose forwarded headers (X-Forwarded-For/-Proto, Forwarded) are believed,
    # a JSON list of addresses or networks; from any other peer they are ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Revocation alone by default: the single credentialStatus object that the OB 3.0 JSON
    # Schema (and so the 1EdTech validator) accepts. Adding "suspension" makes credentials
    # suspendable at the price of a second entry, i.e. an array the schema refuses.
    status_purposes: tuple[str, ...] = ("revocation",)
    # VC-JWT credentials: ES256 (the 1EdTech validator accepts RS256 and ES256 only) with each
    # issuer's P-256 key, or EdDSA with its Ed25519 key.
    jwt_algorithm: Literal["ES256", "EdDSA"] = "ES256"
    # Rate limits in the `limits` library's syntax; several per class separated by ";"
    # ("60/minute;1000/hour"). Budgets live in RATE_LIMIT_STORAGE: memory (per process) or
    # redis://… so that every worker and host spends from one budget.
    rate_limit_enabled: bool = True
    rate_limit_storage: str = Field(default="memory://", repr=False)  # the URI may hold a password
    rate_limit_verify: str = "60/minute"  # per address: public verifier, gap with credentials
    rate_limit_claim: str = "30/minute"  # per address: claim links and the learner's pages
    rate_limit_auth_failures: str = "20/minute"  # per address: rejected API tokens
    rate_limit_write: str = "600/minute"  # per API token: every authenticated write
    # Console sign-in: every attempt per address, and failed ones per e-mail address (known or
    # not: the answer never tells which), so guessing one person's password is slow from
    # anywhere and a single address cannot try many people's.
    rate_limit_sign_in: str = "20/minute;200/hour"
    rate_limit_sign_in_email: str = "5/minute;20/hour"
    # Wrong second-factor codes per user (the password was right: slow down the code guess).
    rate_limit_sign_in_code: str = "5/minute;20/hour"
    # Password-reset requests: per address, and per e-mail address asked for (beyond it no
    # more mail is sent, and the answer still does not tell whether the address has a user).
    rate_limit_password_reset: str = "5/minute;30/hour"
    rate_limit_password_reset_email: str = "3/hour;10/day"
    # Backpack sign-in links: requests per address, and mails per e-mail address asked for
    # (beyond it no more mail goes out; the answer is the same, known address or not).
    rate_limit_backpack_sign_in: str = "10/minute;60/hour"
    rate_limit_backpack_sign_in_email: str = "3/hour;10/day"
    # A backpack's sign-in link works once, this long; its sessions last this many days.
    backpack_link_minutes: int = Field(default=30, ge=5, le=24 * 60)
    backpack_session_days: int = Field(default=30, ge=1, le=365)
    # Console sessions end this long after sign-in (or at sign-out, or when revoked).
    console_session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # One-time links to set a password (`skillshub user create` without --password-stdin).
    console_password_link_hours: int = Field(default=72, ge=1, le=24 * 30)
    # Password-reset links (e-mailed from /console/reset-password) work this long.
    console_reset_link_minutes: int = Field(default=60, ge=5, le=24 * 60)
    # A class list uploaded in the console (CSV or XLSX); a larger one gets a message next to
    # the file field. Keep it below MAX_UPLOAD_BYTES, which bounds every request body.
    console_upload_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    @field_validator("base_url")
    @classmethod
    def _strip_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "BASE_URL must be an absolute http(s) URL, e.g. https://badges.example"
            )
        return value.rstrip("/")

    @field_validator("status_purposes")
    @classmethod
    def _check_purposes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(p not in ("revocation", "suspension") for p in value):
            raise ValueError("STATUS_PURPOSES: a JSON list of 'revocation' and/or 'suspension'")
        return tuple(dict.fromkeys(value))

    @field_validator(
        "rate_limit_verify",
        "rate_limit_claim",
        "rate_limit_auth_failures",
        "rate_limit_write",
        "rate_limit_sign_in",
        "rate_limit_sign_in_email",
        "rate_limit_sign_in_code",
        "rate_limit_password_reset",
        "rate_limit_password_reset_email",
        "rate_limit_backpack_sign_in",
        "rate_limit_backpack_sign_in_email",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        try:
            if all(item.amount > 0 for item in parse_many(value)):
                return value
        except ValueError:
            pass
        raise ValueError(
            f"{value!r} is not a rate limit: write e.g. '60/minute' or '10/second;500/hour'"
        )

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_rate_limit_storage(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("memory", "redis", "rediss", "redis+unix"):
            raise ValueError("RATE_LIMIT_STORAGE must be memory:// or a redis:// URL")
        return value

    @field_validator("metrics")
    @classmethod
    def _check_metrics(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("off", "on") or metrics_bind(value) is not None:
            return value
        raise ValueError("METRICS: 'off', 'on' or a HOST:PORT to serve /metrics on its own")

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {item!r} is not an IP address or network"
                ) from None
        return tuple(item.strip() for item in value)

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """The separate listener's (host, port), when METRICS names one."""
        return metrics_bind(self.metrics)

    @cached_property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'skillshub.db').resolve()}"

    @property
    def wallet_offer_ttl(self) -> timedelta:
        return timedelta(minutes=self.wallet_offer_minutes)

    @property
    def wallet_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.wallet_token_seconds)

    @property
    def wallet_nonce_ttl(self) -> timedelta:
        return timedelta(seconds=self.wallet_nonce_seconds)

    @property
    def learner_session_ttl(self) -> timedelta:
        return timedelta(days=self.learner_session_days)

    @property
    def backpack_link_ttl(self) -> timedelta:
        return timedelta(minutes=self.backpack_link_minutes)

    @property
    def backpack_session_ttl(self) -> timedelta:
        return timedelta(days=self.backpack_session_days)

    @property
    def console_session_ttl(self) -> timedelta:
        return timedelta(hours=self.console_session_hours)

    @property
    def console_password_link_ttl(self) -> timedelta:
        return timedelta(hours=self.console_password_link_hours)

    @property
    def console_reset_link_ttl(self) -> timedelta:
        return timedelta(minutes=self.console_reset_link_minutes)

    @property
    def master_key_path(self) -> Path:
        return self.data_dir / MASTER_KEY_FILE

    def resolved_master_key(self) -> str | None:
        """The master key from the environment, else from the data directory's key file."""
        if self.master_key:
            return self.master_key.strip()
        path = self.master_key_path
        if path.is_file():
            return path.read_text().strip()
        return None

    @property
    def trusted_hosts(self) -> list[str]:
        """Any other Host is refused (400): pages and links must never be built on it."""
        if self.allowed_hosts is not None:
            return list(self.allowed_hosts)
        own = urlsplit(self.base_url).hostname or ""
        return list(dict.fromkeys([own, "localhost", "127.0.0.1", "testserver"]))

    @property
    def is_public_https(self) -> bool:
        """did:web only makes sense for a deployment with a public https host name."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        return parts.scheme == "https" and host not in ("localhost", "127.0.0.1", "::1")
