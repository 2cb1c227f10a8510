"""Alembic migrations for the service's schema."""
