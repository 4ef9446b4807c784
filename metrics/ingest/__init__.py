"""Ingest: templates, reading what analysts send, validation, dry run, publish (DESIGN.md "Ingest rules")."""
