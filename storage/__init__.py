"""Durable state on SQLModel: SQLite by default, PostgreSQL for several replicas."""
