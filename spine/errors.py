"""Typed spine errors: each names the offending field and says how to fix it."""

from __future__ import annotations

from typing import Any


class SpineError(Exception):
    """Base of every spine error; ``field`` names the input at fault, ``fix`` says what to do."""

    code = "spine_error"

    def __init__(self, field: str, message: str, fix: str = "") -> None:
        self.field = field
        self.message = message
        self.fix = fix
        text = f"{field}: {message}"
        super().__init__(f"{text} (fix: {fix})" if fix else text)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, for tool results and HTTP bodies."""
        return {"error": self.code, "field": self.field, "message": self.message, "fix": self.fix}


class ValidationError(SpineError):
    """Input breaks a rule of the canonical model."""

    code = "validation_error"


class NotFoundError(SpineError):
    """The named entity does not exist (in this tenant)."""

    code = "not_found"

    def __init__(self, entity: str, entity_id: str, field: str | None = None) -> None:
        self.entity = entity
        self.entity_id = entity_id
        super().__init__(
            field or f"{entity}_id", f"no {entity} with id {entity_id!r}", f"pass the id of an existing {entity}"
        )


NotFound = NotFoundError


class UnknownTenantError(NotFoundError):
    """The tenant id names no tenant."""

    code = "unknown_tenant"

    def __init__(self, tenant_id: str) -> None:
        super().__init__("tenant", tenant_id, field="tenant_id")


class TenantIsolationError(SpineError):
    """A read or write reached an entity that belongs to another tenant."""

    code = "tenant_isolation"

    def __init__(self, entity: str, entity_id: str, tenant_id: str, field: str | None = None) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.id_field = field  # the argument that held the id, as NotFoundError would name it
        super().__init__(
            "tenant_id",
            f"{entity} {entity_id!r} does not belong to tenant {tenant_id!r}",
            "use ids from your own tenant",
        )


class ConflictError(SpineError):
    """Optimistic-locking failure: the caller's version is stale; nothing was written."""

    code = "conflict"

    def __init__(self, entity: str, entity_id: str, expected: int, actual: int | None) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            "expected_version",
            f"{entity} {entity_id!r} is at version {actual}, not {expected}",
            "re-read the entity and retry with its current version",
        )


class DuplicateRequestError(SpineError):
    """A request id (or idempotency key) was already used."""

    code = "duplicate_request"

    def __init__(self, field: str, value: str, message: str = "", fix: str = "") -> None:
        self.value = value
        super().__init__(
            field,
            message or f"{field} {value!r} was already used",
            fix or f"send a new unique {field}",
        )


class IdempotencyKeyReusedError(DuplicateRequestError):
    """The same client_request_key was sent with different arguments."""

    code = "idempotency_key_reused"

    def __init__(self, value: str) -> None:
        super().__init__(
            "client_request_key",
            value,
            f"client_request_key {value!r} was already used with different arguments",
            "repeat the original arguments exactly, or use a new client_request_key",
        )


class InvalidTransitionError(ValidationError):
    """A status change that the workflow does not allow."""

    code = "invalid_transition"

    def __init__(self, entity: str, current: str, target: str, allowed: list[str]) -> None:
        self.current = current
        self.target = target
        super().__init__(
            "status",
            f"{entity} cannot move from {current!r} to {target!r}",
            f"allowed from {current!r}: {', '.join(allowed) or 'none'}",
        )


class ImmutableEntityError(SpineError):
    """An approved (or otherwise frozen) entity cannot be changed in place."""

    code = "immutable"


class SchemaVersionError(SpineError):
    """A stored row has a schema version with no upgrade path."""

    code = "schema_version"


class FourEyesError(SpineError):
    """Whoever wrote or submitted something may not also approve it (separation of duties)."""

    code = "four_eyes"
