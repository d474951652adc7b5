"""``mcc ask`` and ``mcc chat`` in-process (Typer runner) on a fresh MCC_HOME with the demo tenant.

The model is the scripted test double of the external LLM (``App.chat_model`` patched); everything else is real:
settings, wiring, the four in-process MCP servers, the guard, the SQLite checkpoints and the approvals CLI.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agents.models.base import Usage
from mcc import cli as mcc_cli
from mcc.commands import chat
from mcc.wiring import App, open_app
from spine.demo import load_demo
from tests.agents.graph.support import ScriptedModel, call, campaign_args, route, say


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("MCC_DATABASE_URL", "ANTHROPIC_API_KEY", "MCC_USER", "MCC_TENANT"):
        monkeypatch.delenv(var, raising=False)
    with open_app() as app:
        load_demo(app.sessions)
    yield tmp_path


@pytest.fixture
def cli() -> typer.Typer:
    return mcc_cli.app  # the real root app: chat and ask as mounted, approvals next to them


def use_model(monkeypatch: pytest.MonkeyPatch, model: ScriptedModel) -> None:
    monkeypatch.setattr(App, "chat_model", lambda self: model)


def run(cli: typer.Typer, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_ask_json_has_exactly_the_documented_keys(home: Path, cli: typer.Typer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spent = Usage(input_tokens=300, output_tokens=40, cache_read_input_tokens=1200, cache_creation_input_tokens=90)
    answer = say("There are 12 campaigns.").model_copy(update={"usage": spent})
    use_model(monkeypatch, ScriptedModel({
        "supervisor": [route(("analytics", "how many campaigns?"))],
        "analytics": [call("spine__list_campaigns", limit=100).model_copy(update={"usage": spent}), answer],
    }))  # fmt: skip
    code, out = run(cli, "ask", "how many campaigns?", "--json")
    assert code == 0, out
    turn = json.loads(out)
    assert set(turn) == {"thread_id", "reply", "route", "tool_calls", "approvals", "waiting", "usage"}
    assert turn["usage"] == {"input_tokens": 600, "output_tokens": 80, "cache_creation_input_tokens": 180,
                             "cache_read_input_tokens": 2400, "model_calls": 3}  # fmt: skip
    assert turn["route"] == ["analytics"] and turn["reply"] == "There are 12 campaigns." and not turn["waiting"]
    assert turn["tool_calls"] == [{"server": "spine", "tool": "list_campaigns", "arguments": {"limit": 100},
                                   "decision": "allow", "result_status": "ok"}]  # fmt: skip
    assert (home / "checkpoints.db").exists()


def test_ask_waits_for_approval_then_thread_resumes_after_approvals_approve(  # type: ignore[no-untyped-def]
    home: Path, cli: typer.Typer, monkeypatch
) -> None:
    use_model(monkeypatch, ScriptedModel({
        "supervisor": [route(("production", "create CLI Launch with 45k")), say("Noted.")],
        "production": [call("spine__create_campaign", **campaign_args("CLI Launch", "45000")),
                       say("CLI Launch is created.")],
    }))  # fmt: skip
    code, out = run(cli, "ask", "create CLI Launch with 45k", "--json")
    assert code == 0, out
    waiting = json.loads(out)
    assert waiting["waiting"] and waiting["approvals"][0]["status"] == "pending"
    approval_id, thread = waiting["approvals"][0]["approval_id"], waiting["thread_id"]

    code, out = run(cli, "ask", "--thread", thread)  # human output while it waits
    assert code == 0 and approval_id in out and "marketing-leadership" in out
    code, out = run(cli, "ask", "something else", "--thread", thread, "--json")  # answered; the call still waits
    meanwhile = json.loads(out)
    assert code == 0 and meanwhile["waiting"] and meanwhile["reply"].startswith("Noted.")
    assert approval_id in meanwhile["reply"] and meanwhile["tool_calls"] == []

    code, out = run(cli, "approvals", "approve", approval_id, "--as", "dana.reyes")
    assert code == 0, out
    code, out = run(cli, "ask", "--thread", thread, "--json")
    assert code == 0, out
    done = json.loads(out)
    assert not done["waiting"] and done["reply"] == "CLI Launch is created."
    assert [(c["tool"], c["result_status"]) for c in done["tool_calls"]] == [
        ("create_campaign", "approval_required"), ("create_campaign", "ok")
    ]  # fmt: skip
    assert done["tool_calls"][1]["arguments"]["approval_id"] == approval_id


def test_resolving_an_approval_resumes_the_requesters_thread(home: Path, cli: typer.Typer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    use_model(monkeypatch, ScriptedModel({
        "supervisor": [route(("production", "create Hook Launch"))],
        "production": [call("spine__create_campaign", **campaign_args("Hook Launch", "20000")), say("Hook done.")],
    }))  # fmt: skip
    code, out = run(cli, "ask", "create Hook Launch", "--json")
    waiting = json.loads(out)
    code, out = run(cli, "approvals", "reject", waiting["approvals"][0]["approval_id"], "--as", "dana.reyes",
                    "--note", "not now", "--json")  # fmt: skip
    assert code == 0, out
    record = json.loads(out)
    resumed = record["resumed_thread"]  # the approvals command resumed maya's thread as maya
    assert resumed["thread_id"] == waiting["thread_id"] and not resumed["waiting"]
    assert resumed["approvals"][0]["status"] == "rejected" and resumed["reply"] == "Hook done."
    with open_app() as app:
        assert asyncio.run(chat.resume_after_resolution(app, record)) is None  # nothing waits any more


def test_chat_streams_agents_tools_and_reply_and_runs_slash_commands(  # type: ignore[no-untyped-def]
    home: Path, cli: typer.Typer, monkeypatch
) -> None:
    use_model(monkeypatch, ScriptedModel({
        "supervisor": [route(("production", "create Chat Launch")), say("Chat Launch waits for its approval."),
                       say("Hi! What can I do?")],
        "production": [call("spine__create_campaign", **campaign_args("Chat Launch", "30000")), say("Created.")],
    }))  # fmt: skip
    lines = "create Chat Launch\nand another\n/approvals\n/resume\n/thread\n/new\nhello\n/usage\n/help\n/quit\n"
    code, out = run(cli, "chat", input=lines)
    assert code == 0, out
    assert "production" in out and "spine.create_campaign" in out and "approval_required" in out
    assert "pending approval" in out and "Pending approvals" in out and "still waiting" in out
    assert "Chat Launch waits for its approval." in out  # a message while the thread waits is answered
    assert "new conversation" in out and "Hi! What can I do?" in out and "/approvals" in out
    assert "last turn: 0 input, 0 output" in out and "session (4 turns)" in out  # /usage (the script's usage is 0)


def test_unknown_user_and_missing_message_are_clear_errors(home: Path, cli: typer.Typer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    use_model(monkeypatch, ScriptedModel({}))
    code, out = run(cli, "ask", "hi", "--as", "nobody")
    assert code == 2 and "nobody" in out
    code, out = run(cli, "ask")
    assert code == 2 and "--thread" in out
    code, out = run(cli, "ask", "--thread", "no-such-thread")
    assert code == 2 and "no-such-thread" in out
