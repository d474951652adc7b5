"""``mcc knowledge ingest|search|answer|eval``: the playbook knowledge base from the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mcc.output import console, err_console, print_json
from mcc.settings import Settings, load_settings

if TYPE_CHECKING:
    from knowledge.models import Audience
    from knowledge.service import KnowledgeBase

app = typer.Typer(no_args_is_help=True)

# Torch embedding backend: idle OpenMP threads sleep instead of spinning (torch is imported later, lazily): on a
# shared 2-core machine spinning threads collapse embedding throughput whenever another process holds a core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="Read as this tenant: its own documents (plus the shared playbooks).")
]
PROGRESS_MIN_FILES = 20  # below this a run is short; no progress bar


def build_knowledge_base(settings: Settings) -> KnowledgeBase:
    """The knowledge base configured by settings (persistent Chroma under MCC_HOME, or a Chroma server URL);
    a bad or silent Chroma URL ends the command with the error (exit 2)."""
    from knowledge.errors import KnowledgeError
    from knowledge.service import KnowledgeBase
    from mcc.wiring import build_embedder

    try:
        return KnowledgeBase(
            persist_dir=None if settings.chroma_url else settings.chroma_path,
            chroma_url=settings.chroma_url,
            embedder=build_embedder(settings),
        )
    except KnowledgeError as exc:
        err_console.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or directories (default: the shipped playbooks).")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Ingest into this tenant's scope: only its users can read them.")
    ] = None,
    shared: Annotated[
        bool, typer.Option("--shared", help="Ingest into the shared collection every tenant reads.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Ingest Markdown, text, HTML and PDF files incrementally (unchanged skipped, changed replaced) into one
    tenant's scope (--tenant) or the shared collection (--shared; the default for the shipped playbooks only).
    Symbolic links leading out of an ingested folder are refused."""
    from knowledge.parsing import discover_files
    from knowledge.service import default_playbooks_dir

    if tenant is not None and shared:
        err_console.print("[red]error[/red] --tenant and --shared exclude each other; pass one")
        raise typer.Exit(2)
    if paths and tenant is None and not shared:
        err_console.print("[red]error[/red] say where the files go: --tenant TENANT (that tenant only) or --shared")
        raise typer.Exit(2)
    if tenant is not None and not tenant.strip():
        err_console.print("[red]error[/red] --tenant needs a tenant id")
        raise typer.Exit(2)
    targets = list(paths) if paths else [default_playbooks_dir()]
    kb = build_knowledge_base(load_settings())
    total = len(discover_files(targets))
    if total >= PROGRESS_MIN_FILES and not json_out:
        with Progress(
            TextColumn("[bold]ingest[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}"), console=err_console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("", total=total)

            def step(done: int, _total: int, path: str) -> None:
                bar.update(task, completed=done, description=Path(path).name)

            report = kb.ingest(targets, progress=step, tenant_id=tenant)
    else:
        report = kb.ingest(targets, tenant_id=tenant)
    if json_out:
        print_json(report.model_dump())
        return
    for skipped in report.skipped:
        err_console.print(f"[yellow]skipped[/yellow] {escape(skipped.path)}: {escape(skipped.reason)}")
    scope = f"tenant {escape(tenant)}" if tenant is not None else "shared"
    console.print(
        f"[bold]Ingested[/bold] ({scope}) {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, {len(report.skipped)} skipped; "
        f"{report.chunks_written} chunks written, {report.chunks_deleted} deleted in {report.seconds:.1f}s "
        f"(model load {report.model_load_seconds:.1f}s, embedding {report.embed_seconds:.1f}s)"
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Number of results.")] = 5,
    domain: Annotated[str | None, typer.Option(help="Only this domain, e.g. event_standards.")] = None,
    tier: Annotated[str | None, typer.Option(help="Only this tier: 1, 2, 3 or all.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Hybrid search (dense + BM25, RRF) with citations and each retriever's score."""
    if mode not in ("hybrid", "dense", "bm25"):
        err_console.print("[red]error[/red] --mode must be hybrid, dense or bm25")
        raise typer.Exit(2)
    settings = load_settings()
    hits = build_knowledge_base(settings).search(
        query,
        k=k,
        domain=domain,
        tier=tier,
        mode=mode,
        audience=_audience(settings, tenant),  # type: ignore[arg-type]
    )
    if json_out:
        print_json([h.model_dump() for h in hits])
        return
    table = Table("#", "citation", "scope", "score", "dense", "bm25", "text")
    for i, h in enumerate(hits, start=1):
        dense = f"{h.scores.dense:.3f}" if h.scores.dense is not None else ""
        bm25 = f"{h.scores.bm25:.2f}" if h.scores.bm25 is not None else ""
        snippet = " ".join(h.text.split())[:120]
        scope = f"tenant {h.tenant}" if h.scope == "tenant" else "shared"
        table.add_row(str(i), escape(h.citation), escape(scope), f"{h.score:.4f}", dense, bm25, escape(snippet))
    console.print(table)


@app.command()
def answer(
    question: Annotated[str, typer.Argument(help="A question about the playbooks.")],
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A grounded answer quoted from the playbooks with citations, or a plain 'not in the playbooks'."""
    settings = load_settings()
    result = build_knowledge_base(settings).answer(question, audience=_audience(settings, tenant))
    if json_out:
        print_json(result.model_dump(exclude={"hits"}))
        return
    console.print(escape(result.answer))
    for i, c in enumerate(result.citations, start=1):
        console.print(f"  \\[{i}] {escape(c.citation)} ({c.scope})")
    for w in result.warnings:
        err_console.print(f"[yellow]warning[/yellow] {escape(w)}")
    for s in result.unsupported_sentences:
        err_console.print(f"[yellow]unsupported[/yellow] {escape(s)}")


def _audience(settings: Settings, tenant: str | None) -> Audience:
    """The shared playbooks (when the settings enable them) plus, with --tenant, that tenant's documents."""
    from knowledge.models import Audience

    return Audience(tenant_id=tenant, shared=settings.knowledge_shared_playbooks or tenant is None)


@app.command("eval")
def eval_(
    corpus: Annotated[Path, typer.Option("--corpus", exists=True, help="Directory of playbooks to ingest.")],
    qa: Annotated[Path, typer.Option("--qa", exists=True, help="QA YAML (qa_dev.yaml format).")],
    unanswerable: Annotated[
        Path | None, typer.Option(help="Extra unanswerable questions (default: the package's dev set).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Retrieval benchmark: BM25-only, dense-only and hybrid (recall, MRR, nDCG, unanswerable detection)."""
    from knowledge.evaluation import DEFAULT_UNANSWERABLE, format_table, run_benchmark
    from mcc.wiring import build_embedder

    extra = unanswerable or DEFAULT_UNANSWERABLE
    report = run_benchmark(corpus, qa, extra, embedder=build_embedder(load_settings()))
    if json_out:
        print_json(report.model_dump())
        return
    console.print(format_table(report))
