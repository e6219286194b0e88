"""Incoming webhooks: Standard Webhooks verification over raw bytes, replay-safe storage."""
