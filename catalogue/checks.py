"""Checks the catalogue services share: slugs, workloads, URLs, skills, controlled values.

Each failure is a domain error naming the offending field in `details["field"]`, raised before
anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from catalogue import vocabularies
from catalogue.errors import Conflict, DomainError, InvalidInput
from catalogue.models import Skill
from catalogue.organisations import SLUG_RE, slugify

T = TypeVar("T")
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


# xsd:duration (what ELM's maximumDuration takes): years, months, days, then T with hours,
# minutes and seconds (a fraction only in seconds); ISO 8601's weeks are not in it.
_DURATION = re.compile(
    r"P(?=\d|T\d)(?:(\d{1,4})Y)?(?:(\d{1,5})M)?(?:(\d{1,6})D)?"
    r"(?:T(?=\d)(?:(\d{1,7})H)?(?:(\d{1,9})M)?(?:(\d{1,10}(?:\.\d{1,6})?)S)?)?\Z"
)
_WEEKS = re.compile(r"P(\d{1,5})W\Z")


def duration(field: str, value: str | None) -> str | None:
    """An ISO 8601 duration as xsd:duration writes it ("P6M", "P1Y6M", "PT40H"), or None.
    Weeks ("P6W", ISO 8601 but not xsd) become days; a zero duration is refused (no
    maximum), as is anything else with an example of what is meant."""
    value = (value or "").strip().upper() or None
    if value is None:
        return None
    weeks = _WEEKS.match(value)
    if weeks:
        value = f"P{int(weeks[1]) * 7}D"
    found = _DURATION.match(value)
    if found is None:
        raise invalid(
            field,
            f"{value[:40]!r} is not an ISO 8601 duration: write e.g. P6M (six months), P1Y, "
            "P90D or PT40H",
        )
    if not any(part and float(part) > 0 for part in found.groups()):
        raise invalid(field, "must be longer than zero")
    return value


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


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+\Z")


def uri(field: str, value: str | None) -> str | None:
    """An absolute URI (https://…, urn:…), or None."""
    value = text(field, value, max_length=500)
    if value and not _URI.match(value):
        raise invalid(field, "must be an absolute URI, e.g. https://… or urn:…")
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
    """A pydantic error as a domain error naming every problem (details["errors"])."""
    errors = [
        {"field": _location(e.get("loc", ())), "message": plain_message(e)} for e in exc.errors()
    ]
    first = errors[0]
    message = (
        f"{first['field']}: {first['message']}"
        if len(errors) == 1
        else f"{len(errors)} problems: "
        + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    )
    return FieldErrors(message, details={"field": first["field"], "errors": errors})


# --- every problem at once ------------------------------------------------------------------


class FieldErrors(InvalidInput):
    """Fields are wrong: `details["errors"]` lists each as {field, message}."""


def _location(loc: Iterable[Any]) -> str:
    # List positions count from 1, as the services' own messages do ("learning_outcomes.1.text").
    return ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in loc) or "input"


class Problems:
    """Collects the problems of one input so that a form or an API answer names all of them,
    each next to its field, instead of stopping at the first.

    `check(field, thunk)` runs one check and keeps its domain error (InvalidInput or
    Conflict naming a field); fields already reported (by the schema) are not checked again.
    """

    def __init__(self, reported: Iterable[dict[str, str]] = ()) -> None:
        self.errors: list[dict[str, str]] = list(reported)
        self._first: DomainError | None = None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def reported(self, field: str) -> bool:
        return any(
            e["field"] == field
            or e["field"].startswith(field + ".")
            or field.startswith(e["field"] + ".")
            for e in self.errors
        )

    def add(self, field: str, message: str, error: DomainError | None = None) -> None:
        if error is not None and self._first is None and not self.errors:
            self._first = error
        self.errors.append({"field": field, "message": message})

    def check(self, field: str, thunk: Callable[[], T]) -> T | None:
        if self.reported(field):
            return None
        try:
            return thunk()
        except (InvalidInput, Conflict) as exc:
            named = exc.details.get("field") if isinstance(exc.details, dict) else None
            where = str(named or field)
            prefix = f"{where}: "
            message = exc.message[len(prefix) :] if exc.message.startswith(prefix) else exc.message
            self.add(where, message, exc)
            return None

    def raise_if_any(self) -> None:
        """One problem: its own error (its status and message as before, the list added to
        its details); several: FieldErrors (422) listing them all."""
        if not self.errors:
            return
        if len(self.errors) == 1 and self._first is not None:
            first = self._first
            base = first.details if isinstance(first.details, dict) else {}
            first.details = {**base, "errors": self.errors}
            raise first
        first_field = self.errors[0]["field"]
        if len(self.errors) == 1:
            only = self.errors[0]
            raise FieldErrors(
                f"{only['field']}: {only['message']}",
                details={"field": first_field, "errors": self.errors},
            )
        listed = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        raise FieldErrors(
            f"{len(self.errors)} problems: {listed}",
            details={"field": first_field, "errors": self.errors},
        )


# Placeholders for required fields the schema refused, so that the other fields can still be
# checked; the placeholder's own problems are not reported (the field has one already).
_PLACEHOLDERS: dict[str, Any] = {"string": "", "integer": 0, "number": 0, "array": []}


_PLAIN = {
    "missing": "is required",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
}


def plain_message(error: Any) -> str:
    """pydantic's wording where a person reads it better otherwise; a validator's own refusal
    as it wrote it (pydantic prefixes it "Value error, ")."""
    kind = error.get("type", "")
    cause = (error.get("ctx") or {}).get("error")
    if kind == "value_error" and cause is not None:
        return str(cause)
    return _PLAIN.get(kind, error.get("msg", ""))


def parse_all(model: type[SQLModel] | Any, raw: object) -> tuple[Any, Problems]:
    """The input model from raw JSON, and the schema's problems (all of them); refused fields
    are left out (required ones get a neutral placeholder) so the services can check the
    rest. A body that is not a JSON object is refused at once."""
    if not isinstance(raw, dict):
        raise InvalidInput("the body must be a JSON object", details={"field": "input"})
    try:
        return model.model_validate(raw), Problems()
    except ValidationError as exc:
        errors = exc.errors()
    problems = Problems(
        {"field": _location(e.get("loc", ())), "message": plain_message(e)} for e in errors
    )
    refused = {str(e["loc"][0]) for e in errors if e.get("loc")}
    kept = {k: v for k, v in raw.items() if k not in refused}
    for name, field in model.model_fields.items():
        if name in refused and field.is_required():
            kind = model.model_json_schema()["properties"][name].get("type", "string")
            kept[name] = _PLACEHOLDERS.get(kind, "")
    try:
        return model.model_validate(kept), problems
    except ValidationError:  # cannot happen for the catalogue's models; be safe anyway
        problems.raise_if_any()
        raise
