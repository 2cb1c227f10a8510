"""Persistence: models, sessions, queries and migrations for SQLite and PostgreSQL."""
