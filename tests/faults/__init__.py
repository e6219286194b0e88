"""Fault injection against real processes (private PostgreSQL/Redis; see harness.py)."""
