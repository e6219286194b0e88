"""A deliberately vulnerable imitation of Launchproof's public contract, for the scorecard.

It serves the same paths, methods and JSON shapes as the real API (app/*/router.py, schemas),
so every ``launchproof check`` question can be asked of it, and it gets every answer wrong:
wildcard CORS with credentials, weak cookies, unauthenticated and unowned routes, sequential ids,
no rate limits, tracebacks with a secret, unchecked uploads served inline, a slow ``/v1/me``,
passwords and cookies in its log, no HTTPS hygiene, a zone without DMARC, a planted repository.
It lives only under ``tests/`` and listens only on loopback; nothing in ``app/`` imports it.
"""
