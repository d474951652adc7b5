"""``mcc eval run|rag|schema``: eval suites that score the agent team's behaviour (see evals/README.md).

``run`` exits 1 when a hard gate is not 0 or the pass rate is under ``--min-pass``, 2 on bad input.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mcc.output import console, err_console, print_json
from mcc.settings import load_settings

# Idle OpenMP threads sleep instead of spinning (torch loads later): embedding on a shared small machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

app = typer.Typer(no_args_is_help=True, help="Run eval suites that score agent behaviour.")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error[/red] {escape(message)}")
    return typer.Exit(2)


@app.command("run")
def run(
    paths: Annotated[list[Path], typer.Argument(help="Case files or directories (*.yaml), anywhere on disk.")],
    trials: Annotated[int, typer.Option("--trials", min=1, max=50, help="Runs per case (pass^k).")] = 1,
    model: Annotated[str, typer.Option("--model", help="offline (default) or claude (needs ANTHROPIC_API_KEY).")] = (
        "offline"
    ),
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None,
    min_pass: Annotated[
        float | None, typer.Option("--min-pass", min=0.0, max=1.0, help="Fail (exit 1) under this pass rate.")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only cases with this id or tag (repeatable).")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep each case's world directory (for debugging).")] = False,
    rag_corpus: Annotated[
        Path | None, typer.Option("--rag-corpus", exists=True, help="Also run the retrieval metrics on this corpus.")
    ] = None,
    rag_qa: Annotated[Path | None, typer.Option("--rag-qa", exists=True, help="QA file of --rag-corpus.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List passing cases too.")] = False,
    split: Annotated[
        str, typer.Option("--split", help="Of a suite directory: dev (cases + paraphrases/), test (test/), all.")
    ] = "dev",
    floor: Annotated[
        list[str] | None,
        typer.Option("--floor", help="SPLIT=RATE: that split's own bar instead of --min-pass (repeatable)."),
    ] = None,
) -> None:
    """Run eval cases, each in a fresh world, and report pass rate, pass^k, tags, hard gates and failures."""
    import yaml

    from evals.case_files import CaseFileError
    from evals.report import summary_text
    from evals.suite import SuiteOptions, run_suite

    if model not in ("offline", "claude"):
        raise _fail(f"--model: unknown model {model!r}; use offline or claude")
    if split not in ("dev", "test", "all"):
        raise _fail(f"--split: unknown split {split!r}; use dev, test or all")
    floors: dict[str, float] = {}
    for item in floor or []:
        name, _, rate = item.partition("=")
        try:
            floors[name.strip()] = float(rate)
        except ValueError:
            raise _fail(f"--floor {item!r}: write SPLIT=RATE, e.g. paraphrase=0.9") from None
        if name.strip() not in ("dev", "paraphrase", "test") or not 0 <= floors[name.strip()] <= 1:
            raise _fail(f"--floor {item!r}: the split is dev, paraphrase or test and the rate 0-1")
    if (rag_corpus is None) != (rag_qa is None):
        raise _fail("--rag-corpus and --rag-qa go together")
    options = SuiteOptions(
        paths=paths, model=model, trials=trials, min_pass=min_pass, json_out=json_out,  # type: ignore[arg-type]
        html_out=html_out, only=only or [], keep=keep, rag_corpus=rag_corpus, rag_qa=rag_qa,
        split=split, floors=floors,  # type: ignore[arg-type]
    )  # fmt: skip

    def progress(result: object) -> None:
        """One line per finished run on stderr."""
        r = result  # a TrialResult
        mark = "[green]ok[/green]" if r.reward == 1 else "[red]FAIL[/red]"  # type: ignore[attr-defined]
        trial = f" #{r.trial + 1}" if trials > 1 else ""  # type: ignore[attr-defined]
        err_console.print(f"{mark} {escape(r.case_id)}{trial} [dim]{r.seconds:.1f}s[/dim]")  # type: ignore[attr-defined]

    try:
        report = asyncio.run(run_suite(load_settings(), options, progress))
    except (CaseFileError, ValueError, yaml.YAMLError) as exc:
        raise _fail(str(exc)) from None
    console.print(summary_text(report, verbose=verbose), markup=False, highlight=False)
    for label, path in (("JSON", json_out), ("HTML", html_out)):
        if path is not None:
            console.print(f"{label} report: {path}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("rag")
def rag(
    corpus: Annotated[Path, typer.Option("--corpus", exists=True, help="Directory of playbooks to ingest.")],
    qa: Annotated[Path, typer.Option("--qa", exists=True, help="QA YAML (knowledge/eval/qa_dev.yaml format).")],
    unanswerable: Annotated[
        Path | None, typer.Option(help="Extra unanswerable questions (default: the package's dev set).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics as JSON here.")] = None,
    min_recall: Annotated[
        float | None,
        typer.Option("--min-recall", min=0.0, max=1.0, help="Fail (exit 1) when hybrid section recall@5 is lower."),
    ] = None,
) -> None:
    """Retrieval metrics of the knowledge base (the same benchmark as ``mcc knowledge eval``)."""
    import pydantic
    import yaml

    from evals.rag import hybrid, rag_metrics
    from knowledge.evaluation import format_table

    try:
        report = rag_metrics(load_settings(), corpus, qa, unanswerable)
    except (yaml.YAMLError, pydantic.ValidationError, AttributeError, TypeError) as exc:
        raise _fail(f"--qa {qa}: not a QA file of the knowledge/eval/qa_dev.yaml format ({exc})") from None
    console.print(format_table(report))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
        console.print(f"JSON report: {json_out}")
    recall = hybrid(report).section_recall_at_5
    if min_recall is not None and recall < min_recall:
        err_console.print(f"[red]FAILED[/red] hybrid section recall@5 {recall:.2f} is under --min-recall {min_recall}")
        raise typer.Exit(1)


@app.command("schema")
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write the schema here instead of printing it.")] = None,
) -> None:
    """The JSON Schema of a case (generated from the case models)."""
    from evals.case_files import case_json_schema, write_schema

    if out is not None:
        console.print(f"wrote {write_schema(out)}")
    else:
        print_json(case_json_schema())
