"""Webhooks: signed outgoing deliveries (``outbound``) and verified incoming events (``inbound``).

Other domains call ``app.webhooks.events.emit_event`` inside their own transaction.
"""
