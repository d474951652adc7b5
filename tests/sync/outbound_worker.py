"""A worker process for the kill -9 test: propagate one tenant's changes to a Workfront wire server.

``python -m tests.sync.outbound_worker SPINE_URL DBOS_URL WIRE_URL TOKEN CONFIG_NAME TENANT`` prints the workflow
ids, then waits for their results (the test kills it before they come).
"""

from __future__ import annotations

import sys

from dbos import DBOS

from connectors.workfront.client import WorkfrontRestClient
from spine.db import make_engine, make_session_factory
from sync.durable import DurableConfig, launch_durable
from sync.outbound import Outbound


def main(spine_url: str, dbos_url: str, wire_url: str, token: str, config_name: str, tenant: str) -> None:
    engine = make_engine(spine_url)
    outbound = Outbound(make_session_factory(engine),
                        lambda _t, _s: WorkfrontRestClient(wire_url, token, max_retries=1, backoff_base=0.01),
                        config_name=config_name, max_attempts=1)  # fmt: skip
    with launch_durable(DurableConfig(system_database_url=dbos_url, polling_interval_sec=0.05)) as durable:
        ids = outbound.enqueue_pending(durable.outbound, tenant)
        print(" ".join(ids), flush=True)
        for wf_id in ids:
            DBOS.retrieve_workflow(wf_id).get_result(polling_interval_sec=0.05)


if __name__ == "__main__":
    main(*sys.argv[1:7])
