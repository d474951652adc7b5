"""Alembic environment of the spine (run it through ``spine.migrate``)."""
