"""The app stays inside Cloudflare's own limits.

- Request bodies: Cloudflare refuses bodies over 100 MB on the Free and Pro plans with its own
  413 page. Every body cap setting is bounded below that, so no configuration can promise an
  upload the edge would cut.
- Idle streams: Cloudflare ends a proxied response that sends nothing for 100 s (524). SSE turns
  send a keep-alive comment at least every 15 s (tests/chat/test_keepalive.py runs it).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import EDGE_MAX_BODY_BYTES, Settings

pytestmark = pytest.mark.checklist(
    "C11",
    red="let a body cap default to or be set at Cloudflare's 100 MB limit or above, or the SSE "
    "keep-alive exceed its idle timeout",
)

CLOUDFLARE_FREE_PRO_BODY_LIMIT = 100 * 1000 * 1000  # bytes; Business 200 MB, Enterprise 500 MB
CLOUDFLARE_PROXY_READ_TIMEOUT = 100  # seconds without a byte before a 524
BODY_CAPS = [name for name in Settings.model_fields if name.startswith("max_") and "body" in name]


def test_the_body_caps_are_found() -> None:
    assert set(BODY_CAPS) >= {
        "max_request_body_bytes",
        "max_upload_body_bytes",
        "max_webhook_body_bytes",
    }
    assert EDGE_MAX_BODY_BYTES <= CLOUDFLARE_FREE_PRO_BODY_LIMIT


@pytest.mark.parametrize("name", BODY_CAPS)
def test_every_body_cap_defaults_below_the_edge_limit(name: str) -> None:
    assert getattr(Settings(), name) < CLOUDFLARE_FREE_PRO_BODY_LIMIT


@pytest.mark.parametrize("name", BODY_CAPS)
def test_no_body_cap_can_be_set_above_the_edge_limit(name: str) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({name: CLOUDFLARE_FREE_PRO_BODY_LIMIT + 1})
    assert (
        getattr(Settings.model_validate({name: EDGE_MAX_BODY_BYTES}), name) == EDGE_MAX_BODY_BYTES
    )


def test_keep_alive_is_well_inside_the_proxy_read_timeout() -> None:
    bound = Settings.model_fields["sse_ping_seconds"].metadata
    assert Settings().sse_ping_seconds <= 15 < CLOUDFLARE_PROXY_READ_TIMEOUT
    assert any(getattr(item, "le", None) == 15 for item in bound)
