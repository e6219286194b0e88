"""``launchproof check``: score a live deployment (and, with ``--repo``, a source tree) against
the launch checklist, from the outside, within a printed request and time budget.

The checks speak only the public contract (HTTP, TLS, DNS, the bundled route inventory); nothing
here imports a domain package, so a fork that changed the code is judged by what it serves.
"""
