"""Column types that keep stored values faithful: UTC datetimes and readable JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zone type and SQLAlchemy's SQLite DATETIME silently drops tzinfo,
    so values are stored there as naive UTC (which also keeps text comparison correct)
    and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # a naive value would be read back as UTC and shift by the local offset
            raise ValueError(f"naive datetime {value.isoformat()} given; the store takes aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_dumps(value: Any) -> str:
    """Non-ASCII text (Chinese inputs and outputs) stays readable and half the size."""
    # one encoder for all calls: json.dumps with options builds a new one every time
    return _ENCODER.encode(value)


def json_column() -> JSON:
    # none_as_null: a Python None is SQL NULL, so "no outputs yet" is not the JSON text 'null'
    return JSON(none_as_null=True)
