"""Every value sealed with the master key, in one list: what rotation re-seals, what readiness
and restore open.

A table that starts sealing a column under the master key adds its entry here (with the key
id its sealing code binds the record to); `tests/skillshub/test_master_key_rotate.py` fails
for a `sealed*` column missing from this list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from accounts.models import User
from keys.eseal_models import SealCertificate
from keys.models import IssuerKey, MasterKeyCheck
from keys.sealing import MasterKey, SealingError


@dataclass(frozen=True)
class SealedColumn:
    model: type[SQLModel]
    column: str
    key_id: Callable[[Any], str]

    @property
    def name(self) -> str:
        return f"{self.model.__tablename__}.{self.column}"


SEALED: tuple[SealedColumn, ...] = (
    SealedColumn(MasterKeyCheck, "sealed", lambda _row: "master-key-check"),
    SealedColumn(IssuerKey, "sealed_private_key", lambda row: row.kid),
    SealedColumn(
        SealCertificate, "sealed_private_key", lambda row: f"seal-certificate:{row.fingerprint}"
    ),
    # The console's second factor (accounts): sealed with key id "totp:<user id>".
    SealedColumn(User, "totp_secret", lambda row: f"totp:{row.id}"),
)


def sealed_rows(session: Session, entry: SealedColumn) -> Iterator[Any]:
    """The rows of `entry`'s table that hold a sealed value, in primary-key order."""
    column = getattr(entry.model, entry.column)
    statement = select(entry.model).where(col(column).is_not(None))
    yield from session.exec(statement.order_by(entry.model.id))  # type: ignore[attr-defined]  # every sealed table has an id


@dataclass
class Unopened:
    what: str  # "issuer_key.sealed_private_key #3"
    reason: str


def unopened(
    session: Session, master_key: MasterKey, *, limit: int | None = None
) -> list[Unopened]:
    """The sealed values `master_key` does not open (at most `limit` rows per table)."""
    failures: list[Unopened] = []
    for entry in SEALED:
        for n, row in enumerate(sealed_rows(session, entry)):
            if limit is not None and n >= limit:
                break
            try:
                master_key.unseal(getattr(row, entry.column), key_id=entry.key_id(row))
            except SealingError as exc:
                failures.append(Unopened(f"{entry.name} #{row.id}", str(exc)))
    return failures
