"""Alembic migrations of the schema (run with ``intake db upgrade``)."""
