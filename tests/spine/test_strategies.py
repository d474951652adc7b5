"""Strategy versioning: drafts edit in place, approved content is immutable, approval supersedes."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from spine.errors import IdempotencyKeyReusedError, ImmutableEntityError, InvalidTransitionError, ValidationError
from spine.repositories import open_store
from tests.spine.conftest import T1

CONTENT = {"sections": [{"heading": "Message", "body": "Faster **launches**"}], "attachments": []}


def _new(factory, campaign_id):
    with open_store(factory, T1) as store:
        return store.strategies.create(
            {
                "campaign_id": campaign_id,
                "type": "messaging",
                "title": "Key messages",
                "content": CONTENT,
                "generated_by": "agent",
                "agent_session_id": "sess-1",
            },
            actor="maya.chen",
        )


def test_workflow_and_versions(factory, campaign_id):
    s1 = _new(factory, campaign_id)
    with open_store(factory, T1) as store:
        edited = store.strategies.edit(s1.id, title="Key messages (draft 2)", actor="maya.chen")
        assert edited.id == s1.id and edited.version == 1  # drafts edit in place
        store.strategies.submit(s1.id, actor="maya.chen")
        approved = store.strategies.approve(s1.id, actor="lee.park")
        assert (approved.status, approved.approved_by) == ("approved", "lee.park")
    with open_store(factory, T1) as store:
        s2 = store.strategies.edit(s1.id, content={"sections": [{"heading": "New", "body": "v2"}]}, actor="maya.chen")
        assert (s2.version, s2.previous_version_id, s2.status) == (2, s1.id, "draft")
        assert store.strategies.get(s1.id).content == CONTENT | {
            "sections": [{"heading": "Message", "body": "Faster **launches**", "subsections": []}]
        }
        with pytest.raises(ImmutableEntityError):
            store.strategies.edit(s1.id, title="Fork", actor="maya.chen")
        store.strategies.submit(s2.id, actor="maya.chen")
        store.strategies.approve(s2.id, actor="lee.park")
        assert store.strategies.get(s1.id).status == "superseded"
        assert [h.version for h in store.strategies.history(s2.id)] == [2, 1]
        types = [e.event_type for e in store.events.list(event_type="strategy.approved")]
        assert types == ["strategy.approved", "strategy.approved"]


@pytest.mark.parametrize(
    ("steps", "bad"),
    [
        ([], "approve"),
        ([], "reject"),
        (["submit"], "submit"),
        (["submit", "approve"], "approve"),
        (["submit", "reject"], "submit"),
    ],
)
def test_invalid_transitions(factory, campaign_id, steps, bad):
    s = _new(factory, campaign_id)
    with open_store(factory, T1) as store:
        for step in steps:
            actor = "maya.chen" if step == "submit" else "lee.park"  # four eyes: the submitter cannot approve
            getattr(store.strategies, step)(s.id, actor=actor, **({"reason": "no"} if step == "reject" else {}))
    with pytest.raises(InvalidTransitionError) as err, open_store(factory, T1) as store:
        getattr(store.strategies, bad)(s.id, actor="lee.park", **({"reason": "no"} if bad == "reject" else {}))
    assert err.value.field == "status"


def test_reject_needs_reason_and_rejected_edit_makes_new_version(factory, campaign_id):
    s = _new(factory, campaign_id)
    with open_store(factory, T1) as store:
        store.strategies.submit(s.id, actor="maya.chen")
        with pytest.raises(ValidationError) as err:
            store.strategies.reject(s.id, actor="lee.park", reason=" ")
        assert err.value.field == "rejection_reason"
        out = store.strategies.reject(s.id, actor="lee.park", reason="Too vague")
        assert out.rejection_reason == "Too vague"
        nxt = store.strategies.edit(s.id, title="Sharper messages", actor="maya.chen")
        assert nxt.version == 2 and nxt.status == "draft"


def test_create_with_a_request_key_is_idempotent(factory, campaign_id):
    spec = {"campaign_id": campaign_id, "type": "messaging", "title": "Key messages", "content": CONTENT}
    with open_store(factory, T1) as store:
        first = store.strategies.create(spec, actor="maya.chen", client_request_key="draft-1")
    with open_store(factory, T1) as store:
        assert store.strategies.create(spec, actor="maya.chen", client_request_key="draft-1").id == first.id
        with pytest.raises(IdempotencyKeyReusedError):
            store.strategies.create({**spec, "title": "Other"}, actor="maya.chen", client_request_key="draft-1")
        assert [s.id for s in store.strategies.list(campaign_id=campaign_id)] == [first.id]


def test_a_racing_second_create_with_the_same_key_fails_on_the_unique_request_record(factory, campaign_id):
    spec = {"campaign_id": campaign_id, "type": "messaging", "title": "Key messages", "content": CONTENT}
    errors: list[Exception] = []

    def racer() -> None:  # checks before the first create commits, so it misses its record
        try:
            with open_store(factory, T1) as store:
                store.strategies.create(spec, actor="maya.chen", client_request_key="draft-1")
        except Exception as exc:
            errors.append(exc)

    with open_store(factory, T1) as store:
        store.strategies.create(spec, actor="maya.chen", client_request_key="draft-1")
        thread = threading.Thread(target=racer)
        thread.start()
        time.sleep(0.5)  # the racer has read (nothing) and now waits for the write lock / unique index
    thread.join(timeout=30)
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError | OperationalError), errors
    with open_store(factory, T1) as store:
        assert len(store.strategies.list(campaign_id=campaign_id)) == 1
