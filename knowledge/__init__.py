"""Playbook knowledge base: ingest (parse, chunk), embed (sentence-transformers), store (chromadb),
retrieve (hybrid dense + BM25, fused with RRF) and grounded answers, refused when the playbooks do not
contain the answer (``knowledge.answerability``). Imports nothing else of ours.

Entry point: ``knowledge.service.KnowledgeBase``; boundary models in ``knowledge.models``.
Evaluation sets in ``knowledge/eval``: ``qa_dev*.yaml`` / ``unanswerable_dev.yaml`` for tuning,
``qa_heldout.yaml`` / ``unanswerable_heldout.yaml`` for reporting only.
"""
