"""The HTML report: headline numbers and hard gates, per-tag bars, injection metrics, and every failing case with
its failed expectations and trajectory (passing cases fold away). One self-contained file, no scripts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jinja2

from evals.report import SuiteReport

TEMPLATE = """{% macro case_block(c, open) %}{% set t = trial_of(c) %}<div class="case"><div class="head">
<span class="id">{{ c.id }}</span>
{% for tag in c.tags %}<span class="tag">{{ tag }}</span>{% endfor %}
 · {{ c.split }} · reward {{ "%.2f"|format(c.reward) }}{% if c.rewards|length > 1 %} ({{ c.rewards|join(", ") }})
{% endif %} · {{ c.turns }} turn{{ "s" if c.turns != 1 }} · {{ c.tool_calls }} tool calls
 · {{ "%.1f"|format(c.seconds) }} s</div>
{% if c.failed %}<ul class="fails">{% for o in c.failed %}<li>
<span class="x">✗</span> <span class="scope">[{{ o.scope }}]</span> {{ o.name }}<br>
<span class="detail">{{ o.detail }}</span></li>{% endfor %}</ul>{% endif %}
{% for v in t.violations %}<div class="viol">! {{ v }}</div>{% endfor %}
<div class="steps">{% for s in t.steps %}<div class="step {{ s.kind }}">
<div class="lbl">{{ s.label }} · {{ "%.2f"|format(s.seconds) }} s</div>
<div class="msg">{{ s.text }}</div>
{% if s.route %}<div class="route">{% for a in s.route %}<span class="chip">{{ a }}</span>{% endfor %}
</div>{% endif %}
{% if s.calls %}<table class="calls">{% for k in s.calls %}<tr><td>{{ k.server }}.{{ k.tool }}</td>
<td class="d-{{ k.decision }}">{{ k.decision }}</td><td class="d-{{ k.result_status }}">{{ k.result_status }}</td>
<td class="args">{{ args(k.arguments) }}</td></tr>{% endfor %}</table>{% endif %}
{% if s.error %}<div class="err">{{ s.error }}</div>{% endif %}
{% if s.reply %}<div class="reply">{{ s.reply }}</div>{% endif %}</div>{% endfor %}</div></div>{% endmacro %}
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MCC eval report — {{ r.model }}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header .sub{opacity:.75;font-size:13px;margin-top:4px}main{padding:20px 28px;max-width:1200px}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;font-size:13px;margin-left:10px}
.pass{background:#1f9d55;color:#fff}.fail{background:#d64545;color:#fff}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 20px}
.card{background:#fff;border-radius:8px;padding:12px 16px;min-width:150px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .v{font-size:26px;font-weight:700}.card .l{font-size:12px;color:#5b6475;text-transform:uppercase}
.card.bad{border-left:5px solid #d64545}.card.good{border-left:5px solid #1f9d55}
h2{font-size:16px;margin:26px 0 10px}table{border-collapse:collapse;width:100%;background:#fff}
td,th{padding:5px 8px;border-bottom:1px solid #eceef2;text-align:left;vertical-align:top}
th{font-size:12px;color:#5b6475;text-transform:uppercase}
.bar{background:#eceef2;border-radius:4px;height:14px;width:260px;position:relative}
.bar span{display:block;height:14px;border-radius:4px;background:#1f9d55}.bar span.low{background:#e5a00d}
.bar span.bad{background:#d64545}
.case{background:#fff;border-radius:8px;margin:0 0 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.case>.head{padding:10px 14px;border-bottom:1px solid #eceef2}.case .id{font-weight:700;font-size:15px}
.tag{display:inline-block;background:#eef1f6;color:#3b4560;border-radius:10px;padding:1px 8px;font-size:12px;
margin:0 3px}
.fails{margin:8px 14px;padding:0;list-style:none}.fails li{margin:3px 0}.fails .x{color:#d64545;font-weight:700}
.scope{color:#5b6475;font-size:12px}.detail{color:#3b4560;font-family:ui-monospace,monospace;font-size:12px}
.steps{padding:4px 14px 12px}.step{border-left:3px solid #c9ced8;padding:4px 10px;margin:8px 0}
.step.user{border-color:#3b73d6}.step.action{border-color:#e5a00d}.step.resume{border-color:#8a5cd6}
.step .lbl{font-size:12px;color:#5b6475}.msg{font-weight:600}
.route{font-size:12px}.chip{background:#e3ecfb;color:#244f9e;border-radius:10px;padding:1px 8px;margin-right:4px}
.calls{width:auto;margin:4px 0;font-size:12px}.calls td{border:none;padding:1px 8px 1px 0}
.args{font-family:ui-monospace,monospace;color:#5b6475;max-width:620px;overflow-wrap:anywhere}
.d-allow{color:#1f9d55}.d-deny,.d-error,.d-rejected{color:#d64545}
.d-require_approval,.d-approval_required{color:#b07800}
.reply{white-space:pre-wrap;background:#f6f7f9;border-radius:6px;padding:6px 9px;margin-top:4px;font-size:13px}
.err{color:#d64545;font-size:12px}.viol{color:#d64545;font-size:12px;margin:2px 14px}
details{margin:4px 0}summary{cursor:pointer}
</style></head><body>
<header><h1>MCC eval report{% if r.ok %}<span class="badge pass">PASSED</span>{% else %}
<span class="badge fail">FAILED</span>{% endif %}</h1>
<div class="sub">model {{ r.model }} · {{ r.cases }} cases · {{ r.runs }} runs ({{ r.trials }} trial{{ "s" if
 r.trials != 1 }} each) ·
{{ "%.1f"|format(r.wall_seconds) }} s · {{ now }} · {{ r.paths|join(", ") }}</div></header>
<main>
{% if r.problems %}<p class="err">{% for p in r.problems %}{{ p }}<br>{% endfor %}</p>{% endif %}
<div class="cards">
<div class="card {{ 'good' if r.ok else 'bad' }}"><div class="v">{{ pct(r.pass_rate) }}</div>
<div class="l">pass rate{% if r.min_pass is not none %} (min {{ pct(r.min_pass) }}){% endif %}</div></div>
<div class="card"><div class="v">{{ pct(r.pass_k) }}</div><div class="l">pass^{{ r.trials }}</div></div>
{% for g, n in r.hard_gates.items() %}<div class="card {{ 'bad' if n else 'good' }}"><div class="v">{{ n }}</div>
<div class="l">{{ g|replace("_", " ") }}</div></div>{% endfor %}
{% if r.injection.pairs %}
<div class="card"><div class="v">{{ pct(r.injection.benign_utility) }}</div><div class="l">benign utility</div>
</div>
<div class="card"><div class="v">{{ pct(r.injection.utility_under_attack) }}</div>
<div class="l">utility under attack</div></div>
<div class="card {{ 'bad' if r.injection.attack_success_rate else 'good' }}">
<div class="v">{{ pct(r.injection.attack_success_rate) }}</div>
<div class="l">attack success rate ({{ r.injection.pairs }} pairs)</div></div>
{% endif %}
</div>
{% if r.splits %}<h2>By split (95 % Wilson interval)</h2>
<table><tr><th>split</th><th>pass rate</th><th></th><th>passed / runs</th><th>95 % CI</th><th>pass^{{ r.trials }}</th>
</tr>{% for s in r.splits %}<tr><td>{{ s.split }}</td><td><div class="bar">
<span class="{{ 'bad' if s.pass_rate < 0.5 else ('low' if s.pass_rate < 1 else '') }}" style="width:{{
 (s.pass_rate*100)|round(1) }}%"></span></div></td><td>{{ pct(s.pass_rate) }}</td><td>{{ s.passed }} / {{ s.runs }}</td>
<td>{{ pct(s.ci95[0]) }} – {{ pct(s.ci95[1]) }}</td><td>{{ pct(s.pass_k) }}</td></tr>{% endfor %}</table>{% endif %}
{% if r.paraphrases %}{% set p = r.paraphrases %}<h2>Paraphrases</h2>
<p>{{ p.paraphrases }} paraphrases of {{ p.originals }} cases: originals {{ pct(p.original_pass_rate) }}, paraphrases
{{ pct(p.paraphrase_pass_rate) }} (95 % CI {{ pct(p.paraphrase_ci95[0]) }} – {{ pct(p.paraphrase_ci95[1]) }};
{% for k, v in p.by_index.items() %}{{ k }} {{ pct(v) }}{{ ", " if not loop.last }}{% endfor %}),
consistency {{ pct(p.consistency) }}</p>
<table><tr><th>original</th><th>reward</th><th>paraphrases</th></tr>
{% for g in p.groups if not g.consistent %}<tr><td>{{ g.original }}</td><td>{{ g.reward }}</td>
<td>{% for k, v in g.paraphrases.items() %}{{ k }} {{ v }}{{ "; " if not loop.last }}{% endfor %}</td></tr>
{% else %}<tr><td colspan="3">Every original and its paraphrases agree.</td></tr>{% endfor %}</table>{% endif %}
<h2>By tag</h2>
<table><tr><th>tag</th><th>pass rate</th><th></th><th>passed / runs</th></tr>
{% for t in r.by_tag %}<tr><td>{{ t.tag }}</td><td><div class="bar">
<span class="{{ 'bad' if t.pass_rate < 0.5 else ('low' if t.pass_rate < 1 else '') }}" style="width:{{
 (t.pass_rate*100)|round(1) }}%"></span></div></td>
<td>{{ pct(t.pass_rate) }}</td><td>{{ t.passed }} / {{ t.runs }}</td></tr>{% endfor %}</table>
{% if r.rag %}<h2>Retrieval (RAG) metrics</h2>
<table><tr><th>retriever</th><th>doc recall@1</th><th>section recall@5</th><th>evidence recall@5</th>
<th>MRR@10</th><th>nDCG@10</th></tr>
{% for m in r.rag.modes %}<tr><td>{{ m.mode }}</td><td>{{ "%.2f"|format(m.doc_recall_at_1) }}</td>
<td>{{ "%.2f"|format(m.section_recall_at_5) }}</td><td>{{ "%.2f"|format(m.evidence_recall_at_5) }}</td>
<td>{{ "%.2f"|format(m.mrr_at_10) }}</td><td>{{ "%.2f"|format(m.ndcg_at_10) }}</td></tr>{% endfor %}</table>
<p>unanswerable detection {{ pct(r.rag.unanswerable_detection_rate) }}, answerable wrongly refused {{
 pct(r.rag.false_unanswerable_rate) }}</p>{% endif %}
<h2>Failing cases ({{ failing|length }})</h2>
{% for c in failing %}{{ case_block(c, true) }}{% else %}<p>None.</p>{% endfor %}
<h2>Passing cases ({{ passing|length }})</h2>
{% for c in passing %}<details><summary>{{ c.id }} {% for t in c.tags %}<span class="tag">{{ t }}</span>{% endfor %}
</summary>{{ case_block(c, false) }}</details>{% endfor %}
</main></body></html>
"""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _args(arguments: Any) -> str:
    text = json.dumps(arguments or {}, ensure_ascii=False, default=str)
    return text if len(text) <= 400 else text[:399] + "…"


def render_html(report: SuiteReport) -> str:
    """The report as one HTML page."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(TEMPLATE)
    failing = [c for c in report.results if not c.passed_all]
    passing = [c for c in report.results if c.passed_all]
    return template.render(
        r=report, failing=failing, passing=passing, pct=_pct, args=_args,
        trial_of=lambda c: next((t for t in c.trials if t.reward < 1), c.trials[0]),
        now=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )  # fmt: skip


def write_html(report: SuiteReport, path: Path) -> Path:
    """Write the HTML report (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
