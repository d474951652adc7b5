"""``mcc serve webhooks``: the webhook receiver over HTTP, with the DBOS queue worker that processes what it
stores (in this process). Rows left ``received`` by a crash are queued again at start."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from mcc.output import err_console
from mcc.settings import Settings
from mcc.wiring import open_app

if TYPE_CHECKING:
    from mcc.workers import Sweeper

SWEEP_SECONDS = 0.25


def serve_webhooks(settings: Settings, host: str | None, port: int | None) -> None:
    """Run the receiver on host:port until interrupted."""
    import uvicorn

    from mcc.inbound import receiver, worker_config
    from mcc.workers import Sweeper
    from sync.receiver import build_app

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    h, p = host or settings.http_host, port or settings.http_port
    with open_app(settings) as app, app.workers(worker_config(app)) as workers:
        sweep = Sweeper(app, workers)
        swept = sweep()
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep, args=(sweep, stop), name="sync-sweep", daemon=True)
        sweeper.start()
        rec = receiver(app)  # the request path only stores: the sweep queues what arrived, in batches
        err_console.print(f"mcc: webhook receiver on http://{h}:{p}/webhooks/{{asana|workfront}}/{{tenant}} "
                          f"({swept} waiting deliveries queued)")  # fmt: skip
        try:
            uvicorn.run(build_app(rec), host=h, port=p, log_level="warning")
        finally:
            stop.set()
            sweeper.join(5)


def _sweep(sweep: Sweeper, stop: threading.Event, every: float = SWEEP_SECONDS) -> None:
    """Queue what the receiver stored (and plan MCC changes out), every ``every`` seconds, until stopped."""
    while not stop.wait(every):
        sweep()
