"""Alembic revisions of the schema; `storage.migrate` applies them. See README "Upgrades"."""
