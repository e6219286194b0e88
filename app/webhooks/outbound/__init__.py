"""Outgoing webhooks: endpoints, the outbox queue, signing, delivery by the worker."""
