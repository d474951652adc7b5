"""Build the configured Asana backend; the composition root passes settings in, nothing is read here."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from aiolimiter import AsyncLimiter

from connectors.asana.backend import AsanaBackend
from connectors.asana.client import ASANA_API, AsanaRestClient
from connectors.asana.errors import InvalidArgument
from connectors.asana.idempotency import IdempotencyMemory
from connectors.asana.sandbox import AsanaSandbox

SANDBOX_FILE = "asana_sandbox.db"


def make_asana_backend(
    kind: Literal["sandbox", "rest"],
    *,
    data_dir: str | Path | None = None,
    url: str = ASANA_API,
    token: str | None = None,
    workspace_gid: str | None = None,
    rate_per_minute: float = 150,
    limiter: AsyncLimiter | None = None,
    idempotency: IdempotencyMemory | None = None,
    custom_field_gids: Mapping[str, str] | None = None,
) -> AsanaBackend:
    """`sandbox`: SQLite file `asana_sandbox.db` under `data_dir` (it keeps its own idempotency keys); `rest`: the
    real API with `token`, remembering create idempotency keys in `idempotency` (default: this process only).
    `custom_field_gids`: canonical field -> the gid of its Asana custom field, instead of finding it by name."""
    if kind == "sandbox":
        if data_dir is None:
            raise InvalidArgument("data_dir", "the sandbox needs a directory for its SQLite file")
        return AsanaSandbox(Path(data_dir) / SANDBOX_FILE, workspace_gid=workspace_gid,
                            custom_field_gids=custom_field_gids)  # fmt: skip
    if kind == "rest":
        if not token:
            raise InvalidArgument("token", "the REST backend needs an Asana personal access token")
        return AsanaRestClient(
            url, token=token, workspace_gid=workspace_gid, rate_per_minute=rate_per_minute, limiter=limiter,
            idempotency=idempotency, custom_field_gids=custom_field_gids,
        )  # fmt: skip
    raise InvalidArgument("kind", f"unknown Asana backend {kind!r}; use 'sandbox' or 'rest'")
