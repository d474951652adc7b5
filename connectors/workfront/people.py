"""Finding Workfront users by part of their name or email, one implementation over any backend's ``search``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from connectors.workfront.errors import InvalidArgument
from connectors.workfront.models import NAME_MAX, SearchPage, User

USER_FIELDS = ("name", "emailAddr", "homeTeamID")
USERS_LIMIT_MAX = 100
SearchFn = Callable[[str, Mapping[str, Any] | None, Sequence[str] | None, int, int], Awaitable[SearchPage]]


async def search_users(search: SearchFn, text: str | None, limit: int) -> list[User]:
    """Users whose name or email address contains ``text`` (case-insensitive), by name; every user when
    ``text`` is None. Workfront filters are ANDed, so name and email are searched separately and merged."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= USERS_LIMIT_MAX:
        raise InvalidArgument("limit", f"limit must be an integer 1-{USERS_LIMIT_MAX}")
    if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > NAME_MAX):
        raise InvalidArgument("text", f"text must be 1-{NAME_MAX} characters (or omitted to list everyone)")
    queries: list[dict[str, str] | None] = (
        [None] if text is None else [{f: text.strip(), f"{f}_Mod": "cicontains"} for f in ("name", "emailAddr")]
    )
    found: dict[str, User] = {}
    for filters in queries:
        page = await search("USER", filters, USER_FIELDS, limit, 0)
        for item in page.items:
            found.setdefault(item["ID"], User.model_validate(item))
    return sorted(found.values(), key=lambda u: (u.name.casefold(), u.id))[:limit]
