"""Durable research workflows on DBOS Transact (the only importer of dbos)."""
