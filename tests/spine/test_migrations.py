"""Alembic migrations produce exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import spine.models  # noqa: F401
from spine.db import Base, make_engine
from spine.migrate import create_schema, current_revision, downgrade, head_revision, is_up_to_date, upgrade


def test_migrations_match_models(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        create_schema(engine)
        assert current_revision(engine) == head_revision() and is_up_to_date(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        upgrade(engine)  # idempotent at head
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(db_url)  # by URL too
        assert is_up_to_date(db_url)
    finally:
        engine.dispose()


def test_perf_indexes_exist(engine):
    insp = inspect(engine)
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("system_refs")}
    uniques |= {tuple(i["column_names"]) for i in insp.get_indexes("system_refs") if i["unique"]}
    assert ("system", "entity_type", "external_id") in uniques
    assert ("entity_type", "canonical_id") in {tuple(i["column_names"]) for i in insp.get_indexes("system_refs")}
    assert ("tenant_id", "campaign_id", "date") in {tuple(i["column_names"]) for i in insp.get_indexes("measurements")}


def test_processes_migrating_one_new_database_at_once_all_succeed(db_url):
    # Web app, webhook workers and the CLI may all start on a new database together.
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def migrate() -> None:
        engine = make_engine(db_url)
        try:
            barrier.wait()
            upgrade(engine)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert is_up_to_date(db_url)
