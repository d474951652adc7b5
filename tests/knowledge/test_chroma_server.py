"""The knowledge base on a Chroma server (``chroma_url``): the scale-out path, through the real HTTP client.

The server tests use the Chroma server named by ``MCC_TEST_CHROMA_URL`` (``scripts/test.sh`` starts one from the
installed chromadb); without it they skip, and under CI they fail. Each test works in collections of its own,
dropped afterwards. The store is what is under test, so the hashing embedder stands in for the model.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knowledge.errors import ChromaURLError, VectorStoreUnavailable
from knowledge.service import KnowledgeBase
from knowledge.store import ChromaEndpoint, make_client, parse_chroma_url
from mcc.cli import app as cli_app
from mcc.commands.knowledge import build_knowledge_base
from mcc.settings import load_settings
from mcc.wiring import open_app
from tests.knowledge.conftest import CORPUS_DIR, HashingEmbedder, write_playbook

NewCollection = Callable[[], str]

# (query, domain, tier): plain, domain-filtered and tier-filtered searches over the shared corpus
QUERIES: list[tuple[str, str | None, str | None]] = [
    ("budget approval threshold for a purchase order", None, None),
    ("email subject line length and preheader", "production_processes", None),
    ("minimum lead time before launch", None, "1"),
    ("who signs off the creative proof", None, None),
]


def _server_url() -> str:
    url = os.environ.get("MCC_TEST_CHROMA_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("MCC_TEST_CHROMA_URL is not set (required under CI; scripts/test.sh starts a Chroma server)")
        pytest.skip("MCC_TEST_CHROMA_URL is not set (scripts/test.sh starts a Chroma server)")
    return url


@pytest.fixture
def chroma_url() -> str:
    """URL of the test Chroma server."""
    return _server_url()


@pytest.fixture
def new_collection(chroma_url: str) -> Iterator[NewCollection]:
    """Makes fresh collection names on the test server; drops their collections after the test."""
    names: list[str] = []

    def make() -> str:
        names.append(f"t_{uuid.uuid4().hex[:12]}")
        return names[-1]

    yield make
    client = make_client(chroma_url=chroma_url)
    existing = {c.name for c in client.list_collections()}
    for name in names:
        for coll in (name, f"{name}__files"):
            if coll in existing:
                client.delete_collection(coll)


def _server_kb(url: str, collection: str, embedder: HashingEmbedder | None = None) -> KnowledgeBase:
    return KnowledgeBase(chroma_url=url, embedder=embedder or HashingEmbedder(), collection=collection)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------- the URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://chroma.internal:9000", ChromaEndpoint("chroma.internal", 9000, False)),
        ("http://chroma.internal", ChromaEndpoint("chroma.internal", 8000, False)),
        ("https://chroma.example.com", ChromaEndpoint("chroma.example.com", 443, True)),
        ("https://chroma.example.com:8443/", ChromaEndpoint("chroma.example.com", 8443, True)),
        ("HTTPS://Chroma.Example.com/vectors/", ChromaEndpoint("chroma.example.com", 443, True, "/vectors")),
        ("http://[::1]:8000", ChromaEndpoint("::1", 8000, False)),
        (" http://10.0.0.5:8000 ", ChromaEndpoint("10.0.0.5", 8000, False)),
    ],
)
def test_chroma_url_is_parsed_into_host_port_tls_and_prefix(url: str, expected: ChromaEndpoint) -> None:
    assert parse_chroma_url(url) == expected


def test_normalized_url_keeps_every_part() -> None:
    assert parse_chroma_url("https://h.example/vectors/").url == "https://h.example:443/vectors"
    assert parse_chroma_url("http://[::1]").url == "http://[::1]:8000"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("chroma.internal:8000", "scheme"),  # urlparse would read "chroma.internal" as the scheme
        ("localhost", "scheme"),
        ("ftp://chroma.internal", "scheme"),
        ("http://", "no host"),
        ("http://admin:secret@chroma.internal:8000", "credentials"),
        ("http://chroma.internal:8000/?tenant=acme", "query"),
        ("http://chroma.internal:99999", "port"),
    ],
)
def test_unusable_chroma_url_is_refused_with_the_fix(url: str, problem: str) -> None:
    with pytest.raises(ChromaURLError) as info:
        parse_chroma_url(url)
    assert problem in str(info.value)
    assert "Fix: write it as http://HOST:PORT" in str(info.value)
    assert isinstance(info.value, ValueError)  # the CLI reports ValueErrors as configuration errors
    assert "secret" not in str(info.value)  # a password in the URL is never echoed


def test_unreachable_server_fails_at_construction_naming_the_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    with pytest.raises(VectorStoreUnavailable) as info:
        KnowledgeBase(chroma_url=url, embedder=HashingEmbedder())
    assert info.value.url == url
    assert f"no Chroma server answers at {url}" in str(info.value)
    assert "Fix: start one there" in str(info.value)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["knowledge", "search", "budget approval"], "no Chroma server answers at http://127.0.0.1:{port}"),
        (["serve", "knowledge", "--transport", "http"], "no Chroma server answers at http://127.0.0.1:{port}"),
        (["knowledge", "search", "budget approval"], "the scheme must be http or https"),
    ],
)
def test_cli_reports_an_unusable_chroma_url_and_exits_2(
    args: list[str], problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}" if "answers" in problem else f"127.0.0.1:{port}"
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_CHROMA_URL", url)
    monkeypatch.setenv("MCC_HTTP_TOKENS", '{"tok-maya-0123456789abcdef": "acme/maya.chen"}')
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 2, result.output
    assert problem.format(port=port) in result.output and "Fix:" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # an error line, no traceback


# ---------------------------------------------------------------------------------------------- the server


def test_server_store_gives_the_same_results_as_the_local_store(
    chroma_url: str, new_collection: NewCollection, tmp_path: Path
) -> None:
    name = new_collection()
    remote = _server_kb(chroma_url, name)
    local = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder(), collection=name)
    got, want = remote.ingest([CORPUS_DIR]), local.ingest([CORPUS_DIR])

    assert sorted(got.added) == sorted(want.added) and len(got.added) == 14 and not got.skipped
    assert got.chunks_written == want.chunks_written > 0
    # the chunks live on the server: another client of it sees them
    assert make_client(chroma_url=chroma_url).get_collection(name).count() == got.chunks_written
    for query, domain, tier in QUERIES:
        r_hits = remote.search(query, k=8, domain=domain, tier=tier)
        l_hits = local.search(query, k=8, domain=domain, tier=tier)
        assert r_hits, query
        assert [h.chunk_id for h in r_hits] == [h.chunk_id for h in l_hits], query
        assert [h.citation for h in r_hits] == [h.citation for h in l_hits]
        dense = [[-1.0 if h.scores.dense is None else h.scores.dense for h in hits] for hits in (r_hits, l_hits)]
        assert dense[0] == pytest.approx(dense[1], abs=1e-5)
        assert all(h.domain == domain for h in r_hits if domain) and all(h.tier == tier for h in r_hits if tier)
    assert [d.model_dump() for d in remote.list_documents()] == [d.model_dump() for d in local.list_documents()]
    r_answer, l_answer = remote.answer("How long is an approval valid?"), local.answer("How long is an approval valid?")
    assert r_answer.answered and (r_answer.answer, r_answer.citations) == (l_answer.answer, l_answer.citations)


def test_reingest_on_the_server_is_incremental(chroma_url: str, new_collection: NewCollection, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_playbook(docs, "events", "Events Playbook", "## Booths\n\nBooth staff arrive two hours early.")
    changed = write_playbook(docs, "social", "Social Playbook", "## Posting\n\nPost twice a day on weekdays.")
    gone = write_playbook(docs, "print", "Print Playbook", "## Proofs\n\nEvery proof is checked for bleed marks.")
    embedder = HashingEmbedder()
    kb = _server_kb(chroma_url, new_collection(), embedder)

    first = kb.ingest([docs])
    assert len(first.added) == 3 and first.chunks_written > 0
    calls = embedder.calls
    again = kb.ingest([docs])
    assert (len(again.unchanged), again.added, again.updated, again.chunks_written) == (3, [], [], 0)
    assert embedder.calls == calls  # nothing re-embedded

    changed.write_text(changed.read_text() + "\n## Replies\n\nAnswer every comment within zanzibarian hours.\n")
    gone.unlink()
    third = kb.ingest([docs])
    assert third.updated == [str(changed.resolve())] and third.removed == [str(gone.resolve())]
    assert len(third.unchanged) == 1 and third.chunks_deleted > 0
    assert kb.search("zanzibarian", k=1)[0].doc_id == "social"
    assert {d.doc_id for d in kb.list_documents()} == {"events", "social"}
    assert all(h.doc_id != "print" for h in kb.search("proof bleed marks", k=10))


def test_a_second_replica_shares_the_index_and_its_manifest(
    chroma_url: str, new_collection: NewCollection, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_playbook(docs, "webinars", "Webinar Playbook", "## Rehearsal\n\nRehearse the quokkaform demo twice.")
    name = new_collection()
    replica_a, replica_b = _server_kb(chroma_url, name), _server_kb(chroma_url, name, HashingEmbedder())
    replica_b.retriever.refresh_interval = 0.0  # notice other writers at once instead of within a second
    assert replica_b.search("quokkaform demo", k=3) == []

    replica_a.ingest([docs])
    hits = replica_b.search("quokkaform demo", k=3)
    assert hits and hits[0].doc_id == "webinars"  # B's BM25 index was rebuilt from the server's chunks
    report = replica_b.ingest([docs])
    assert len(report.unchanged) == 1 and report.chunks_written == 0  # B trusts A's manifest: no re-embedding


def test_collections_on_one_server_do_not_see_each_other(
    chroma_url: str, new_collection: NewCollection, tmp_path: Path
) -> None:
    # MCC's playbooks are shared by every tenant, so a collection (not a Chroma tenant) is the unit kept apart.
    for sub, doc_id, word in (("x", "xylo", "xylophonic"), ("y", "yarrow", "yarrowesque")):
        (tmp_path / sub).mkdir()
        write_playbook(tmp_path / sub, doc_id, doc_id.title(), f"## Rules\n\nEvery brief is {word} by design.")
    kb_x, kb_y = _server_kb(chroma_url, new_collection()), _server_kb(chroma_url, new_collection())
    kb_x.ingest([tmp_path / "x"])
    kb_y.ingest([tmp_path / "y"])

    assert [d.doc_id for d in kb_x.list_documents()] == ["xylo"]
    assert [d.doc_id for d in kb_y.list_documents()] == ["yarrow"]
    assert kb_x.get_document("yarrow") is None and kb_y.get_document("xylo") is None
    assert {h.doc_id for h in kb_x.search("yarrowesque", k=5)} == {"xylo"}
    assert kb_y.ingest([tmp_path / "x"]).added == [str((tmp_path / "x" / "xylo.md").resolve())]  # own manifest


def test_trailing_slash_and_upper_case_scheme_reach_the_same_server(
    chroma_url: str, new_collection: NewCollection, tmp_path: Path
) -> None:
    write_playbook(tmp_path, "notes", "Notes", "## One\n\nA single section.")
    name = new_collection()
    _server_kb(chroma_url, name).ingest([tmp_path])
    other_spelling = chroma_url.replace("http://", "HTTP://", 1) + "/"
    assert [d.doc_id for d in _server_kb(other_spelling, name).list_documents()] == ["notes"]


def test_mcc_chroma_url_setting_puts_the_product_store_on_the_server(
    chroma_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_CHROMA_URL", chroma_url)
    settings = load_settings()
    client = make_client(chroma_url=chroma_url)
    try:
        with open_app(settings, migrate=False) as app:
            kbs = [app.knowledge, build_knowledge_base(settings)]  # the servers' and the CLI's knowledge base
            for kb in kbs:
                assert kb.server_url == parse_chroma_url(chroma_url).url and kb.store.count() == 0
        assert {"mcc_playbooks", "mcc_playbooks__files"} <= {c.name for c in client.list_collections()}
        assert not settings.chroma_path.exists()  # no local store on the side
    finally:
        for name in ("mcc_playbooks", "mcc_playbooks__files"):
            if name in {c.name for c in client.list_collections()}:
                client.delete_collection(name)


# ---------------------------------------------------------------------------------------------- a server that stops


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Chroma server of this test alone (the shared one must keep running), stopped afterwards."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{chroma} is missing (installed with chromadb)")
        pytest.skip(f"{chroma} is missing")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the test's Chroma server did not start: {(tmp_path / 'chroma.log').read_text()}")
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_server_that_stops_answering_is_a_clear_error(
    own_server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, proc = own_server
    write_playbook(tmp_path, "notes", "Notes", "## One\n\nA single section.")
    kb = _server_kb(url, "mcc_playbooks")
    kb.ingest([tmp_path])
    proc.terminate()
    proc.wait(timeout=30)

    with pytest.raises(VectorStoreUnavailable, match=f"no Chroma server answers at {url}") as info:
        kb.search("single section", k=1)
    assert "Fix: start one there" in str(info.value)
    with pytest.raises(VectorStoreUnavailable):
        kb.ingest([tmp_path])
    with pytest.raises(VectorStoreUnavailable):
        kb.list_documents()
