"""Durable state on SQLModel: SQLite by default, PostgreSQL for several replicas."""

from storage.connect import DEFAULT_URL
from storage.sql import DEFAULT_LEASE_S, SqlStore

__all__ = ["DEFAULT_LEASE_S", "DEFAULT_URL", "SqlStore"]
