"""Alembic migrations, driven from code (see app.migrations.runner)."""
