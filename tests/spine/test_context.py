"""CampaignContext: registry, attach rules (duplicates, types, capacity), persistence, load_from_run."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from spine.context import (
    MAX_ARTIFACTS,
    ArtifactTypeRegistry,
    BaseRunNotFoundError,
    ContextCapacityExceededError,
    DuplicateArtifactIdError,
    InvalidArtifactTypeError,
    attach_step_result,
    get_artifact,
    get_ref,
    has_ref,
    list_refs,
    new_context,
)
from spine.errors import ValidationError
from spine.repositories import open_store
from tests.spine.conftest import T1

H = hashlib.sha256(b"x").hexdigest()


def _ctx():
    return new_context(str(uuid.uuid4()), str(uuid.uuid4()), "launch", "api", initiated_by="maya.chen")


def test_registry_standard_and_custom_types():
    reg = ArtifactTypeRegistry.from_config({"customTypes": [{"name": "custom_asset", "description": "x"}]})
    assert reg.is_valid_type("plan") and reg.is_valid_type("custom_asset") and not reg.is_valid_type("nope")
    assert reg.ref_name("game_bundle") == "gameBundleArtifactId"
    assert reg.ref_name("custom_asset") == "customAssetArtifactId"
    assert len(reg.list_types()) == 13
    with pytest.raises(ValidationError):
        ArtifactTypeRegistry(["Bad Name"])


def test_attach_and_resolve():
    reg = ArtifactTypeRegistry()
    ctx = attach_step_result(
        _ctx(), "plan-step", [{"type": "plan", "uri": "s3://b/plan.json", "hash": H}], reg, input_hash=H
    )
    assert list_refs(ctx) == ["planArtifactId"] and has_ref(ctx, "planArtifactId")
    art = get_ref(ctx, "planArtifactId")
    assert art.step_id == "plan-step" and get_artifact(ctx, ctx.refs["planArtifactId"]) == art
    assert ctx.computed.input_hashes_by_step == {"plan-step": H}
    js = ctx.to_json()
    assert set(js) >= {"campaignId", "runId", "workflowName", "trigger", "refs", "artifacts", "computed"}
    assert js["artifacts"][ctx.refs["planArtifactId"]]["stepId"] == "plan-step"


def test_attach_errors_leave_context_unchanged():
    reg = ArtifactTypeRegistry()
    ctx = attach_step_result(_ctx(), "s1", [{"id": "a1", "type": "plan", "uri": "u", "hash": H}], reg)
    with pytest.raises(DuplicateArtifactIdError) as err:
        attach_step_result(ctx, "s2", [{"id": "a1", "type": "bgm", "uri": "u", "hash": H}], reg)
    assert err.value.field == "artifact_id"
    with pytest.raises(InvalidArtifactTypeError) as err:
        attach_step_result(ctx, "s2", [{"type": "hologram", "uri": "u", "hash": H}], reg)
    assert err.value.field == "type"
    with pytest.raises(Exception) as err:
        attach_step_result(ctx, "s2", [{"type": "bgm", "uri": "u", "hash": "abc"}], reg)
    many = [{"type": "sfx", "uri": f"u{i}", "hash": H} for i in range(MAX_ARTIFACTS)]
    with pytest.raises(ContextCapacityExceededError) as err:
        attach_step_result(ctx, "s3", many, reg)
    assert err.value.field == "artifacts"
    assert len(ctx.artifacts) == 1
    full = attach_step_result(ctx, "s3", many[:-1], reg)
    assert len(full.artifacts) == MAX_ARTIFACTS


def test_runs_persist_and_load_from_run(factory, campaign_id):
    reg = ArtifactTypeRegistry()
    with open_store(factory, T1) as store:
        run = store.runs.create(campaign_id, "launch", initiated_by="maya.chen")
        store.runs.attach(run.id, "plan", [{"type": "plan", "uri": "s3://p", "hash": H}], reg)
        store.runs.set_status(run.id, "completed")
    with open_store(factory, T1) as store:
        again = store.runs.context(run.id)
        assert str(again.run_id) == run.id and has_ref(again, "planArtifactId")
        update = store.runs.create(campaign_id, "launch-update", base_run_id=run.id)
        ctx = store.runs.context(update.id)
        assert str(ctx.run_id) == update.id and ctx.workflow_name == "launch-update"
        assert ctx.refs == again.refs and update.base_run_id == run.id
        assert str(store.runs.load_from_run(run.id).run_id) == run.id
    with pytest.raises(BaseRunNotFoundError) as err, open_store(factory, T1) as store:
        store.runs.create(campaign_id, "x", base_run_id=str(uuid.uuid4()))
    assert err.value.field == "base_run_id"
