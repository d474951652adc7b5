"""Asana connector: one async interface (``backend.AsanaBackend``) with the REST client (``client``) and the
embedded sandbox (``sandbox``, the default), wire models and validation (``models``), typed errors (``errors``),
idempotency records (``idempotency``) and webhook parsing (``webhooks``)."""
