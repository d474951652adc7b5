"""Eval suites that score the agent team's behaviour (see evals/README.md).

Public API: ``evals.case_files.load_cases`` (YAML -> ``evals.cases.Case``), ``evals.suite.run_suite`` with
``SuiteOptions`` (what ``mcc eval run`` calls), ``evals.report.SuiteReport`` / ``write_json`` /
``evals.html.write_html``, and ``evals.rag.rag_metrics`` (``mcc eval rag``).
"""
