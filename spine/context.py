"""CampaignContext (seed 004): the JSON contract passed between workflow steps, stored on ``Run.context``."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlalchemy.orm import Session

from spine.db import utcnow
from spine.enums import TriggerType
from spine.errors import SpineError, TenantIsolationError, ValidationError
from spine.models import Run
from spine.schemas import to_spine_error

MAX_ARTIFACTS = 50
CONTEXT_SCHEMA_VERSION = 1
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")

STANDARD_ARTIFACT_TYPES: frozenset[str] = frozenset(
    {
        "plan",
        "intro_image",
        "intro_video",
        "button_segmentation",
        "bgm",
        "sfx",
        "audio_manifest",
        "game_config",
        "game_bundle",
        "outcome_win_video",
        "outcome_lose_video",
        "campaign_manifest",
    }
)


class DuplicateArtifactIdError(SpineError):
    code = "duplicate_artifact_id"

    def __init__(self, artifact_id: str) -> None:
        super().__init__("artifact_id", f"artifact {artifact_id!r} is already in the context", "use a new UUID")


class InvalidArtifactTypeError(SpineError):
    code = "invalid_artifact_type"

    def __init__(self, artifact_type: str, known: Iterable[str]) -> None:
        super().__init__("type", f"{artifact_type!r} is not a registered artifact type", f"use one of {sorted(known)}")


class ContextCapacityExceededError(SpineError):
    code = "context_capacity_exceeded"

    def __init__(self, count: int) -> None:
        super().__init__(
            "artifacts",
            f"a context holds at most {MAX_ARTIFACTS} artifacts; this would make {count}",
            "start a new run or drop artifacts you no longer need",
        )


class BaseRunNotFoundError(SpineError):
    code = "base_run_not_found"

    def __init__(self, run_id: str) -> None:
        super().__init__("base_run_id", f"no run {run_id!r} with a context", "pass the id of a finished run")


class ArtifactTypeRegistry:
    """Standard artifact types plus custom ones registered from configuration (validated up front)."""

    def __init__(self, custom_types: Iterable[str | Mapping[str, Any]] = ()) -> None:
        names: set[str] = set()
        for item in custom_types:
            name = item if isinstance(item, str) else item.get("name", "")
            if not isinstance(name, str) or not _TYPE_RE.match(name):
                raise ValidationError("customTypes.name", f"{name!r} is not a valid type name", "use snake_case")
            names.add(name)
        self._types = frozenset(STANDARD_ARTIFACT_TYPES | names)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ArtifactTypeRegistry:
        """Build from ``{"customTypes": [{"name": ..., "description": ...}]}`` (artifact-types.json)."""
        return cls(config.get("customTypes", []))

    def is_valid_type(self, artifact_type: str) -> bool:
        return artifact_type in self._types

    def ref_name(self, artifact_type: str) -> str:
        """``game_bundle`` -> ``gameBundleArtifactId``."""
        if not self.is_valid_type(artifact_type):
            raise InvalidArtifactTypeError(artifact_type, self._types)
        return f"{to_camel(artifact_type)}ArtifactId"

    def list_types(self) -> list[str]:
        return sorted(self._types)


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class TriggerInfo(_Model):
    type: TriggerType
    payload: dict[str, Any] = {}
    timestamp: dt.datetime
    initiated_by: str | None = None


class ArtifactData(_Model):
    type: str = Field(min_length=1, max_length=64)
    uri: str = Field(min_length=1, max_length=2048)
    hash: str
    metadata: dict[str, Any] = {}
    created_at: dt.datetime
    step_id: str = Field(min_length=1, max_length=255)

    @field_validator("hash")
    @classmethod
    def _hash(cls, v: str) -> str:
        if not _HASH_RE.match(v):
            raise ValueError("hash must be 64 lowercase hex characters (SHA-256)")
        return v


class QualityCheckResult(_Model):
    artifact_id: str
    check_type: str
    status: Literal["passed", "failed", "warning"]
    message: str | None = None
    timestamp: dt.datetime
    details: dict[str, Any] = {}


class ComputedData(_Model):
    input_hashes_by_step: dict[str, str] = {}
    quality_checks: list[QualityCheckResult] = []


class StepArtifact(_Model):
    """An artifact a step produced; ``id`` defaults to a new UUID."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    uri: str = Field(min_length=1, max_length=2048)
    hash: str
    metadata: dict[str, Any] = {}

    @field_validator("hash")
    @classmethod
    def _hash(cls, v: str) -> str:
        if not _HASH_RE.match(v):
            raise ValueError("hash must be 64 lowercase hex characters (SHA-256)")
        return v


class CampaignContext(_Model):
    schema_version: int = CONTEXT_SCHEMA_VERSION
    campaign_id: uuid.UUID
    run_id: uuid.UUID
    workflow_name: str = Field(min_length=1, max_length=255)
    trigger: TriggerInfo
    refs: dict[str, str] = {}
    artifacts: dict[str, ArtifactData] = {}
    computed: ComputedData = ComputedData()

    def to_json(self) -> dict[str, Any]:
        """The stored JSON form (camelCase keys, as in the seed)."""
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CampaignContext:
        try:
            return cls.model_validate(dict(data))
        except pydantic.ValidationError as exc:
            raise to_spine_error(exc, prefix="context") from None


def new_context(
    campaign_id: str,
    run_id: str,
    workflow_name: str,
    trigger_type: str = "manual",
    *,
    initiated_by: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> CampaignContext:
    """An empty context for a new run."""
    return CampaignContext.from_json(
        {
            "campaignId": campaign_id,
            "runId": run_id,
            "workflowName": workflow_name,
            "trigger": {
                "type": trigger_type,
                "payload": dict(payload or {}),
                "timestamp": utcnow().isoformat(),
                "initiatedBy": initiated_by,
            },
        }
    )


def attach_step_result(
    context: CampaignContext,
    step_id: str,
    artifacts: Iterable[StepArtifact | Mapping[str, Any]],
    registry: ArtifactTypeRegistry,
    *,
    input_hash: str | None = None,
) -> CampaignContext:
    """Return a new context with the step's artifacts added and refs pointed at them (all or nothing)."""
    items = [a if isinstance(a, StepArtifact) else StepArtifact.model_validate(dict(a)) for a in artifacts]
    seen = set(context.artifacts)
    for item in items:
        if not registry.is_valid_type(item.type):
            raise InvalidArtifactTypeError(item.type, registry.list_types())
        if item.id in seen:
            raise DuplicateArtifactIdError(item.id)
        seen.add(item.id)
    if len(seen) > MAX_ARTIFACTS:
        raise ContextCapacityExceededError(len(seen))
    now = utcnow()
    artifacts_map = dict(context.artifacts)
    refs = dict(context.refs)
    for item in items:
        artifacts_map[item.id] = ArtifactData(
            type=item.type, uri=item.uri, hash=item.hash, metadata=item.metadata, created_at=now, step_id=step_id
        )
        refs[registry.ref_name(item.type)] = item.id
    computed = context.computed
    if input_hash is not None:
        computed = computed.model_copy(
            update={"input_hashes_by_step": {**computed.input_hashes_by_step, step_id: input_hash}}
        )
    return context.model_copy(update={"artifacts": artifacts_map, "refs": refs, "computed": computed})


def get_ref(context: CampaignContext, ref_name: str) -> ArtifactData | None:
    artifact_id = context.refs.get(ref_name)
    return context.artifacts.get(artifact_id) if artifact_id else None


def get_artifact(context: CampaignContext, artifact_id: str) -> ArtifactData | None:
    return context.artifacts.get(artifact_id)


def list_refs(context: CampaignContext) -> list[str]:
    return sorted(context.refs)


def has_ref(context: CampaignContext, ref_name: str) -> bool:
    return get_ref(context, ref_name) is not None


def load_from_run(
    session: Session, tenant_id: str, base_run_id: str, *, new_run_id: str | None = None
) -> CampaignContext:
    """The context of a previous run (for update workflows), re-keyed to ``new_run_id`` when given."""
    run = session.get(Run, base_run_id) if isinstance(base_run_id, str) else None
    if run is None or run.context is None:
        raise BaseRunNotFoundError(str(base_run_id))
    if run.tenant_id != tenant_id:
        raise TenantIsolationError("run", base_run_id, tenant_id)
    ctx = CampaignContext.from_json(run.context)
    if new_run_id is not None:
        ctx = ctx.model_copy(update={"run_id": uuid.UUID(new_run_id)})
    return ctx
