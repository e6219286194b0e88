"""The reviewer console: a static, build-free browser front end served by the API itself.

Same origin as the API, so the session cookie stays ``HttpOnly`` + ``SameSite=Lax`` and no
CORS grant is needed; its pages carry their own strict CSP with Trusted Types (``policy.py``),
and browsers report violations to ``POST /console/csp-reports`` (``reports.py``). See
docs/console.md.
"""
