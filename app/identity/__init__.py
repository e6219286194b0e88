"""The identity kernel: who is calling and what they may reach (docs/architecture.md).

Principal, credential lookup and the RLS context it binds, the route dependencies, scopes,
roles, CSRF, the session cookie and the tables authentication reads. Below every domain: it
imports only ``app.core`` (docs/decisions/0022-identity-kernel.md).
"""
