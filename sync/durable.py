"""The DBOS bootstrap of the sync engine: launch DBOS on a system database, register the engine's queues, destroy.

DBOS keeps workflows, their step results and the queues in a database: a SQLite file next to the spine database by
default, the spine's own PostgreSQL database (schema ``dbos``) when the spine is on PostgreSQL, so every worker
process shares the queues. DBOS is a per-process singleton: one ``launch_durable`` at a time in a process.

Workflows and steps are declared at import time with ``@DBOS.workflow()`` / ``@DBOS.step()`` (the registry outlives
``destroy``); queues live in the system database and are registered here after launch. The application version is
pinned (``application_version``) so that every MCC process, whatever workflows it happens to import, recovers and
dequeues the same workflows; their steps are idempotent by request key, so a replay after an upgrade is safe.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dbos._dbos as _dbos_internals
from dbos import DBOS, DBOSConfig, DBOSConfiguredInstance, Queue
from dbos._registrations import _class_fqn
from sqlalchemy import make_url

WEBHOOKS_QUEUE = "webhooks"  # inbound deliveries, processed after they are stored and acknowledged
OUTBOUND_QUEUE = "outbound"  # MCC-owned field changes propagated to the linked external project
CAMPAIGN_SETUP_QUEUE = "campaign_setup"  # the durable campaign-creation workflow
QUEUE_NAMES: tuple[str, ...] = (WEBHOOKS_QUEUE, OUTBOUND_QUEUE, CAMPAIGN_SETUP_QUEUE)

APP_NAME = "mcc"
APP_VERSION = "mcc-1"  # bump only when recorded workflows can no longer be replayed by the new code


class DurableError(RuntimeError):
    """DBOS cannot be launched as asked (names the setting and the fix)."""


def default_system_database_url(spine_url: str) -> str:
    """The DBOS system database for a spine URL: a ``<name>-dbos.sqlite`` file next to a SQLite spine, the same
    database (its own ``dbos`` schema) for PostgreSQL."""
    url = make_url(spine_url)
    if url.get_backend_name() != "sqlite":
        return spine_url
    if not url.database or url.database == ":memory:":
        raise DurableError("dbos_database_url: an in-memory spine has no place for DBOS; set MCC_DBOS_DATABASE_URL")
    path = Path(url.database)
    return f"sqlite:///{path.with_name(f'{path.stem}-dbos.sqlite')}"


@dataclass(frozen=True, slots=True)
class DurableConfig:
    """How to launch DBOS; built by the composition root from settings (or by a test)."""

    system_database_url: str
    schema: str = "dbos"  # PostgreSQL schema of the DBOS tables (ignored by SQLite)
    executor_id: str = "local"  # recovery at launch takes over this executor's unfinished workflows
    application_version: str = APP_VERSION
    polling_interval_sec: float = 1.0  # how often each queue worker looks for new work
    worker_concurrency: dict[str, int] = field(default_factory=dict)  # queue name -> max running in this process
    log_level: str = "WARNING"


@dataclass(frozen=True, slots=True)
class Durable:
    """A launched DBOS with the engine's queues. Enqueue with ``durable.queue(NAME).enqueue(workflow, *args)``."""

    config: DurableConfig
    queues: dict[str, Queue]

    def queue(self, name: str) -> Queue:
        """One of the engine's queues by name (``QUEUE_NAMES``)."""
        if name not in self.queues:
            raise DurableError(f"queue: unknown queue {name!r}; use one of {', '.join(QUEUE_NAMES)}")
        return self.queues[name]

    @property
    def webhooks(self) -> Queue:
        return self.queues[WEBHOOKS_QUEUE]

    @property
    def outbound(self) -> Queue:
        return self.queues[OUTBOUND_QUEUE]

    @property
    def campaign_setup(self) -> Queue:
        return self.queues[CAMPAIGN_SETUP_QUEUE]


def _dbos_config(config: DurableConfig) -> DBOSConfig:
    dbos_config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": config.system_database_url,
        "application_version": config.application_version,
        "executor_id": config.executor_id,
        "log_level": config.log_level,
        "notification_listener_polling_interval_sec": min(1.0, max(0.01, config.polling_interval_sec)),
    }
    if not config.system_database_url.startswith("sqlite"):
        dbos_config["dbos_system_schema"] = config.schema
    return dbos_config


def ensure_not_launched() -> None:
    """A DurableError when DBOS already runs in this process (before anything binds itself to a new launch)."""
    if _dbos_internals._dbos_global_instance is not None:
        raise DurableError("DBOS is already launched in this process; leave the other launch_durable block first")


@contextmanager
def launch_durable(config: DurableConfig, instances: Sequence[DBOSConfiguredInstance] = ()) -> Iterator[Durable]:
    """Launch DBOS on ``config.system_database_url`` (creating or migrating its tables), register the queues,
    recover this executor's unfinished workflows, and destroy DBOS on exit (the workflow registry is kept).

    ``instances`` are the configured workflow objects this launch runs (built before the call, so recovery finds
    them); they are removed from DBOS's process-wide registry on exit, so the next launch can bind new ones."""
    try:
        # DBOS(config=...) silently returns an existing instance with ITS config: refuse instead of mixing databases.
        ensure_not_launched()
        _log_to_current_stderr(logging.getLogger("dbos"))
        logging.getLogger("dbos").setLevel(config.log_level)
        DBOS(config=_dbos_config(config))
        try:
            DBOS.launch()
            queues = {
                name: DBOS.register_queue(
                    name,
                    worker_concurrency=config.worker_concurrency.get(name),
                    polling_interval_sec=config.polling_interval_sec,
                    on_conflict="always_update",
                )
                for name in QUEUE_NAMES
            }
            yield Durable(config=config, queues=queues)
        finally:
            DBOS.destroy()
    finally:
        _forget(instances)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at each record: DBOS's own console handler keeps the stderr of the moment
    it was made, which is closed once that stream is replaced (a redirected stderr, a test's captured one)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def _log_to_current_stderr(dbos_log: logging.Logger) -> None:
    """Give DBOS's logger its console handler before DBOS makes its own (DBOS adds one only when there is none)."""
    if not dbos_log.handlers:
        handler = _CurrentStderr()
        handler.name = "__dbos_console_log_handler__"  # the name DBOS looks for to set the console level
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)8s] (%(name)s) %(message)s", "%H:%M:%S"))
        dbos_log.addHandler(handler)
        dbos_log.propagate = False


def _forget(instances: Sequence[DBOSConfiguredInstance]) -> None:
    # DBOS keeps configured instances in a process-wide registry and refuses a second one of the same name.
    registry = _dbos_internals._get_or_create_dbos_registry()
    if _dbos_internals._dbos_global_instance is None:
        registry.dbos = None  # destroyed: else the next launch's instances are warned "registered after launch"
    for inst in instances:
        key = f"{_class_fqn(inst.__class__)}/{inst.config_name}"
        if registry.instance_info_map.get(key) is inst:
            del registry.instance_info_map[key]
