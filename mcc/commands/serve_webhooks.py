"""``mcc serve webhooks``: the webhook receiver over HTTP, by default with the DBOS queue worker that processes
what it stores (in this process; rows left ``received`` by a crash are queued again at start). With
``--no-worker`` the process only checks, stores and acknowledges; ``mcc sync worker`` processes(es) sharing the
same database process the inbox."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from mcc.output import err_console
from mcc.settings import Settings
from mcc.wiring import open_app

if TYPE_CHECKING:
    from mcc.workers import Sweeper

SWEEP_SECONDS = 0.25


def serve_webhooks(settings: Settings, host: str | None, port: int | None, worker: bool = True) -> None:
    """Run the receiver on host:port until interrupted (``worker``: with the queue worker in this process)."""
    from mcc.inbound import receiver, worker_config
    from mcc.workers import Sweeper
    from sync.receiver import build_app

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    h, p = host or settings.http_host, port or settings.http_port
    where = f"http://{h}:{p}/webhooks/{{asana|workfront}}/{{tenant}}"
    if not worker:
        with open_app(settings) as app:
            err_console.print(f"mcc: webhook receiver on {where} (no worker here: run `mcc sync worker` to process "
                              "what it stores)")  # fmt: skip
            _run(build_app(receiver(app)), h, p)
        return
    with open_app(settings) as app, app.workers(worker_config(app)) as workers:
        sweep = Sweeper(app, workers)
        swept = sweep()
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep, args=(sweep, stop), name="sync-sweep", daemon=True)
        sweeper.start()
        rec = receiver(app)  # the request path only stores: the sweep queues what arrived, in batches
        err_console.print(f"mcc: webhook receiver on {where} ({swept} waiting deliveries queued)")
        try:
            _run(build_app(rec), h, p)
        finally:
            stop.set()
            sweeper.join(5)


def _run(asgi: Any, host: str, port: int) -> None:
    import uvicorn

    # No access log: a line per delivery costs more CPU than storing it; `mcc sync inbox` lists what came in.
    uvicorn.run(asgi, host=host, port=port, log_level="warning", access_log=False)


def _sweep(sweep: Sweeper, stop: threading.Event, every: float = SWEEP_SECONDS) -> None:
    """Queue what the receiver stored (and plan MCC changes out), every ``every`` seconds, until stopped."""
    while not stop.wait(every):
        sweep()
