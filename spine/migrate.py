"""Run the spine's Alembic migrations programmatically (works from an installed package, no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from spine.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Key of the PostgreSQL advisory lock that serialises migrations ("mccmigr" in ASCII).
_MIGRATION_LOCK_KEY = 0x6D63636D69677231


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at ``spine/migrations`` (``url`` optional when a connection is passed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def _serialise(conn: Connection) -> None:
    # Several processes (web, webhook workers, CLI) may start on one new database at once: the second waits for the
    # first instead of failing on a half-created schema. pysqlite runs DDL outside a transaction unless told.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    elif conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` against an engine or URL."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.begin() as conn:
            _serialise(conn)
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        if owned:
            engine.dispose()


def downgrade(engine_or_url: Engine | str, revision: str = "base") -> None:
    """``alembic downgrade <revision>``."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.begin() as conn:
            _serialise(conn)
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    finally:
        if owned:
            engine.dispose()


def create_schema(engine: Engine | str) -> None:
    """Create (or bring up to date) every spine table: the same as ``upgrade(engine, "head")``."""
    upgrade(engine, "head")


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine_or_url: Engine | str) -> str | None:
    """The revision the database is at (None when never migrated)."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def is_up_to_date(engine_or_url: Engine | str) -> bool:
    return current_revision(engine_or_url) == head_revision()
