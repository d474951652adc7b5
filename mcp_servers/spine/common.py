"""What the spine server's tool modules share: a tenant-scoped store whose errors name the tool's own arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ToolFailure
from spine.errors import IdempotencyKeyReusedError
from spine.repositories import SpineStore, open_store


def key_reused() -> ToolFailure:
    """The failure of an idempotency key sent again with other arguments (the tools' name for the key)."""
    return ToolFailure(
        "idempotency_key: already used for a different call",
        field="idempotency_key",
        code="idempotency_key_reused",
        fix="repeat the original arguments exactly, or use a new idempotency_key",
    )


@contextmanager
def tenant_store(sessions: sessionmaker[Session], call: CallContext) -> Iterator[SpineStore]:
    """One transaction on the caller's tenant. The repositories call the key ``client_request_key``; the tools
    call it ``idempotency_key``, so that is the argument a reuse error names."""
    try:
        with open_store(sessions, call.principal.tenant_id) as store:
            yield store
    except IdempotencyKeyReusedError:
        raise key_reused() from None
