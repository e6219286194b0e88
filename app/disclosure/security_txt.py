"""The security.txt body, from the deployment's settings.

``Expires`` is computed, 180 days from today (UTC midnight): the file states the *running*
configuration's contact, reviewed with every deployment of it, so it cannot go stale the way a
hand-edited file does; a date well under RFC 9116's one-year ceiling keeps crawlers re-reading it.
Without ``SECURITY_CONTACT`` there is nothing true to publish, and the route answers 404
(``launchproof check`` reports it as a FAIL of the https_edge row).
"""

from __future__ import annotations

import datetime as dt

EXPIRES_AFTER = dt.timedelta(days=180)


def render(contact: str, public_url: str, today: dt.date) -> str:
    expires = dt.datetime.combine(today + EXPIRES_AFTER, dt.time(), tzinfo=dt.UTC)
    return (
        f"Contact: {contact}\n"
        f"Expires: {expires:%Y-%m-%dT%H:%M:%SZ}\n"
        f"Canonical: {public_url.rstrip('/')}/.well-known/security.txt\n"
        "Preferred-Languages: en\n"
    )
