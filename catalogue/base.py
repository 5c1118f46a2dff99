"""Shared table building blocks: UTC timestamps that survive SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import DateTime, Table, inspect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC, returned as aware UTC (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def timestamp(*, nullable: bool = False, default_now: bool = True, index: bool = False) -> Any:
    """A UTC timestamp column for SQLModel tables."""
    if default_now:
        return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=nullable, index=index)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def pk(row: _Row) -> int:
    """The row's primary key, once it is in the database.

    SQLModel types `id` as optional because a new row has none until it is flushed; code that
    holds a stored row asks here instead of hiding a missing id behind a made-up 0.
    """
    if row.id is None:
        raise RuntimeError(f"this {type(row).__name__} has no id: add and flush it first")
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class, for bulk statements (SQLModel's types do not
    declare `__table__`)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table
