"""Ingestion: partner files → harmonised records, with every bad row quarantined with reasons."""
