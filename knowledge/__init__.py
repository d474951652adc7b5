"""Playbook knowledge base: ingest (parse, chunk), embed (sentence-transformers), store (chromadb),
retrieve (hybrid dense + BM25, fused with RRF) and grounded answers. Imports nothing else of ours.

Entry point: ``knowledge.service.KnowledgeBase``; boundary models in ``knowledge.models``.
"""
