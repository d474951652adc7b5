"""Workfront connector: the backends behind the Workfront MCP server and the sync engine.

One async interface (``backend.WorkfrontBackend``) with two implementations chosen per system in settings:

* ``sandbox.WorkfrontSandbox(data_dir)``: embedded, persistent (SQLite under ``data_dir``), the default;
  ``seed.seed_demo(sandbox, projects)`` fills it with demo users, teams, portfolios, templates and projects.
* ``client.WorkfrontRestClient(base_url, api_key, auth="session"|"bearer", ...)``: the real
  ``/attask/api/v{N}/`` REST API (retries, 429 Retry-After, aiolimiter rate limit).

Both validate arguments with ``inputs``/``query`` first and raise the errors of ``errors``; results are the
models of ``models``. ``webhooks.parse_event`` turns event-subscription messages into typed events.
"""
