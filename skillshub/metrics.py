"""Prometheus metrics: what an operator graphs and alerts on, never personal data.

Labels are closed sets (route templates, status codes, verdicts, rate classes, error kinds),
never a raw path, an address, an e-mail or an identifier: a label value is a time series.

Counters live in prometheus-client's process-wide registry. Credential and e-mail figures are
counted from the ORM (`install_orm_counters`) when a transaction commits, so every way in
(API, console, bulk job, CLI) counts once and a rolled-back change not at all. Job gauges are
read from the database at scrape time (`JobsCollector`), so they are the same whichever
process is scraped.

Several processes (web workers, hosts): each keeps its own counters; scrape each one (give
each its own METRICS address) and let Prometheus sum them. prometheus-client's multiprocess
mode is not used: `skillshub serve` runs one process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, func, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from badges.issuing.service import ISSUED_COUNT
from badges.models import BulkJob, BulkJobRow, IssuedCredential
from badges.verifying.fetching import Fetched, Fetcher, FetchError, FetchTimeout, UrlRefused

# `*_created` series (each counter's start time) double the output and no dashboard uses them.
disable_created_metrics()

REQUESTS = Counter(
    "skillshub_http_requests",
    "HTTP requests by method, route template and status code",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "skillshub_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CREDENTIALS = Counter(
    "skillshub_credentials",
    "Credential events committed: issued, revoked, suspended, unsuspended",
    ["event"],
)
VERIFICATIONS = Counter(
    "skillshub_verifications", "Verifications answered, by verdict", ["verdict"]
)
EMAILS = Counter("skillshub_emails", "Claim e-mails by outcome: sent or failed", ["outcome"])
FETCH_FAILURES = Counter(
    "skillshub_fetch_failures",
    "Outbound fetches that failed: refused (not allowed), timeout or error",
    ["kind"],
)
RATE_LIMITED = Counter(
    "skillshub_rate_limit_refusals", "Requests refused by a rate limit, by class", ["rate_class"]
)

for _event in ("issued", "revoked", "suspended", "unsuspended"):
    CREDENTIALS.labels(event=_event)
for _outcome in ("sent", "failed"):
    EMAILS.labels(outcome=_outcome)
for _kind in ("refused", "timeout", "error"):
    FETCH_FAILURES.labels(kind=_kind)


# --- credentials and e-mails, counted from the ORM ------------------------------------------

_PENDING = "skillshub_metrics_pending"


def _added(obj: Any, attribute: str) -> list[Any]:
    return list(inspect(obj).attrs[attribute].history.added)


def _events_of(session: Session) -> list[tuple[Counter, str]]:
    """What this flush changes, read before the flush resets the attribute histories."""
    found: list[tuple[Counter, str]] = []
    for obj in session.new:
        if isinstance(obj, IssuedCredential):
            found.append((CREDENTIALS, "issued"))
    for obj in session.dirty:
        if not isinstance(obj, IssuedCredential):
            continue
        if any(v is not None for v in _added(obj, "revoked_at")):
            found.append((CREDENTIALS, "revoked"))
        for value in _added(obj, "suspended"):
            found.append((CREDENTIALS, "suspended" if value else "unsuspended"))
        for value in _added(obj, "delivery_status"):
            if value in ("sent", "failed"):
                found.append((EMAILS, value))
    return found


def _after_flush(session: Session, _context: Any) -> None:
    events = _events_of(session)
    if events:
        session.info.setdefault(_PENDING, []).extend(events)


def _after_commit(session: Session) -> None:
    # Credentials inserted in bulk (badges.issuing.issue_many) pass no object through a flush.
    inserted = session.info.pop(ISSUED_COUNT, 0)
    if inserted:
        CREDENTIALS.labels(event="issued").inc(inserted)
    for counter, label in session.info.pop(_PENDING, []):
        if counter is CREDENTIALS:
            counter.labels(event=label).inc()
        else:
            counter.labels(outcome=label).inc()


def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(ISSUED_COUNT, None)


def install_orm_counters() -> None:
    """Once per process (idempotent)."""
    from sqlalchemy.orm import Session as OrmSession

    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_soft_rollback", _after_rollback)


# --- outbound fetches -----------------------------------------------------------------------


class CountingFetcher(Fetcher):
    """The verifier's fetcher, counting its failures by kind (never the URL)."""

    def fetch(self, url: str, *, accept: Iterable[str], timeout: float | None = None) -> Fetched:
        try:
            return super().fetch(url, accept=accept, timeout=timeout)
        except FetchError as exc:
            kind = (
                "refused"
                if isinstance(exc, UrlRefused)
                else "timeout"
                if isinstance(exc, FetchTimeout)
                else "error"
            )
            FETCH_FAILURES.labels(kind=kind).inc()
            raise


# --- jobs, read at scrape time --------------------------------------------------------------


class JobsCollector(Collector):
    """Bulk jobs by state and failed rows, from the database (one short read per scrape)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "skillshub_jobs", "Bulk issuing jobs by state (queued, running, done)", labels=["state"]
        )
        rows = GaugeMetricFamily("skillshub_job_rows_failed", "Bulk job rows that failed")
        counts = {"pending": 0, "running": 0, "done": 0}
        failed = 0
        try:
            with Session(self.engine) as session:
                for state, n in session.exec(
                    select(BulkJob.status, func.count()).group_by(BulkJob.status)
                ):
                    counts[state] = n
                failed = session.exec(
                    select(func.count()).where(BulkJobRow.status == "failed")
                ).one()
        except Exception:  # a scrape must answer; /readyz says what is wrong with the database
            return
        names = {"pending": "queued", "running": "running", "done": "done"}
        for state, n in counts.items():
            jobs.add_metric([names.get(state, state)], n)
        rows.add_metric([], failed)
        yield jobs
        yield rows


class _Forward(Collector):
    """The process-wide registry's metrics inside an app's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def app_registry(engine: Engine) -> CollectorRegistry:
    """What one app exposes: the process's counters and its database's job gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Forward())
    registry.register(JobsCollector(engine))
    return registry
