"""Checks the catalogue services share: slugs, workloads, URLs, skills, controlled values.

Each failure is a domain error naming the offending field in `details["field"]`, raised before
anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from catalogue import vocabularies
from catalogue.errors import Conflict, InvalidInput
from catalogue.models import Skill
from catalogue.organisations import SLUG_RE, slugify

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_PRICE = Decimal(10_000_000)
MAX_AMOUNT = 1_000_000


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", details={"field": field})


def text(
    field: str, value: str | None, *, required: bool = False, max_length: int = 0
) -> str | None:
    value = (value or "").strip() or None
    if value is None and required:
        raise invalid(field, "is required")
    if value and max_length and len(value) > max_length:
        raise invalid(field, f"must be at most {max_length} characters")
    return value


def amount(field: str, value: float | None) -> float | None:
    if value is None:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        raise invalid(field, "must be a number")
    if value < 0:
        raise invalid(field, f"must not be negative (got {value:g})")
    if value > MAX_AMOUNT:  # 1e308 is a float, but no workload; it is shown and signed
        raise invalid(field, f"must be at most {MAX_AMOUNT}")
    return float(value)


def eqf_level(value: int | None, *, required: bool = False) -> int | None:
    if value is None:
        if required:
            raise invalid("eqf_level", "is required (1 to 8)")
        return None
    if not 1 <= value <= 8:
        raise invalid("eqf_level", f"must be an EQF level from 1 to 8 (got {value})")
    return value


def concept_code(
    field: str, scheme: str, value: str | int | None, *, required: bool = False
) -> str | None:
    if value is None or value == "":
        if required:
            raise invalid(field, "is required")
        return None
    try:
        return vocabularies.code(scheme, value)
    except vocabularies.UnknownConcept as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        raise vocabularies.UnknownConcept(
            f"{field}: {exc.message}", details={"field": field, **details}
        ) from None


def languages(field: str, values: Iterable[str]) -> list[str]:
    codes: list[str] = []
    for value in values:
        code = concept_code(field, "language", value, required=True)
        if code and code not in codes:
            codes.append(code)
    return codes


def url(field: str, value: str | None) -> str | None:
    value = text(field, value, max_length=500)
    if value and not re.match(r"^https?://[^\s/]+", value):
        raise invalid(field, "must be an absolute http(s) URL")
    return value


def price_cents(amount: Decimal) -> int:
    """The amount in cents; bounded so it fits the 32-bit column on every database."""
    if amount < 0:
        raise invalid("price", "amount must not be negative")
    if amount > MAX_PRICE:
        raise invalid("price", f"amount must be at most {MAX_PRICE}")
    return int((amount * 100).to_integral_value())


def currency(value: str) -> str:
    value = value.strip().upper()
    if not _CURRENCY.match(value):
        raise invalid("price", "currency must be an ISO 4217 code such as EUR")
    return value


def slug_for(
    session: Session,
    model: type[SQLModel],
    wanted: str | None,
    title: str,
    *,
    current_id: int | None = None,
) -> str:
    """A free slug: the wanted one (Conflict if taken), or one made from the title."""
    if wanted:
        if not SLUG_RE.match(wanted):
            raise invalid("slug", f"{wanted!r} must be lower-case letters, digits and hyphens")
        if _slug_owner(session, model, wanted) not in (None, current_id):
            kind = str(model.__tablename__).replace("_", " ")
            raise Conflict(
                f"slug {wanted!r} is already used by another {kind}",
                details={"field": "slug"},
            )
        return wanted
    base = slugify(title)[:72].strip("-") or "item"
    candidate, n = base, 1
    while _slug_owner(session, model, candidate) not in (None, current_id):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _slug_owner(session: Session, model: Any, slug: str) -> int | None:
    return session.exec(select(model.id).where(model.slug == slug)).first()


def skills_by_iri(session: Session, field: str, iris: Iterable[str]) -> dict[str, Skill]:
    """The skills named by these IRIs; InvalidInput lists any the catalogue does not know."""
    wanted = list(dict.fromkeys(i.strip() for i in iris))
    found: dict[str, Skill] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for skill in session.exec(select(Skill).where(col(Skill.iri).in_(chunk))):
            found[skill.iri] = skill
    unknown = [i for i in wanted if i not in found]
    if unknown:
        raise InvalidInput(
            f"{field}: unknown skill IRI(s): {', '.join(unknown[:5])}"
            + (" …" if len(unknown) > 5 else ""),
            details={"field": field, "unknown": unknown},
        )
    return found


@contextmanager
def refusals_as_conflict(what: str) -> Iterator[None]:
    """A constraint the database refuses (a slug taken concurrently, a row still referenced)
    becomes a Conflict; the caller's transaction is then rolled back, so nothing is saved."""
    try:
        yield
    except IntegrityError:
        raise Conflict(f"{what}: the database refused it (taken or still in use)") from None


def flush(session: Session, what: str) -> None:
    with refusals_as_conflict(what):
        session.flush()


def from_validation_error(exc: ValidationError) -> InvalidInput:
    """The first problem of a pydantic error as a domain error (all of them in details)."""
    problems = [
        {"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = problems[0]
    where = ".".join(first["loc"]) or "input"
    return InvalidInput(f"{where}: {first['message']}", details=problems)
