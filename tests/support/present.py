"""What a test expects to be there, taken as there: the code under test may answer None (a row
not found, a report without that check, a pattern that did not match); a test that reads on
fails here, naming what was missing, rather than at an AttributeError on None a line later.

- `present(value, what)`: the value, not None.
- `one(session, Model, key)`: the stored row of that primary key.
- `check_of(report, check_id)`: the verification report's check of that id.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session

from badges.report import Check, VerificationReport

T = TypeVar("T")


def present(value: T | None, what: str = "a value") -> T:
    assert value is not None, f"expected {what}, got None"
    return value


def one(session: Session, model: type[T], key: Any) -> T:
    row = session.get(model, key)
    assert row is not None, f"no {model.__name__} {key!r} in the database"
    return row


def check_of(report: VerificationReport, check_id: str) -> Check:
    check = report.check(check_id)
    assert check is not None, f"no check {check_id!r} in {[c.id for c in report.checks]}"
    return check
