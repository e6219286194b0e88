"""Load and latency scenarios (run from the repository root: ``python -m load.<name>``)."""
