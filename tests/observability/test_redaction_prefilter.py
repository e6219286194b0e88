"""The redaction fast path (a string with no trigger literal is returned as is) changes nothing.

``scrub_text`` skips its substitutions for strings that match none of the literals every pattern
needs. This pins that the shortcut is exact: on credentials, e-mail addresses, presigned URLs,
control characters, case variants and ordinary access-log values alike, the result equals the
full chain of substitutions.
"""

from __future__ import annotations

import pytest

from app.core import redaction
from app.core.redaction import scrub_text

pytestmark = pytest.mark.checklist(
    "C9",
    red="let scrub_text's fast path skip a string that holds a credential, an e-mail address or a"
    " control character",
)

SAMPLES = [
    "request handled",
    "GET",
    "/v1/workspaces/{workspace_id}/conversations",
    "203.0.113.9",
    "0f3a9c1d2b4e5f60718293a4",
    "4b1e9a53-8c2d-4f0e-9b7a-2d6c1e0f3a59",
    "ada@example.com",
    "contact: Ada.Lovelace+x@mail.example.org now",
    "Authorization: Bearer abcdefghijklmnop",
    "basic QWxhZGRpbjpvcGVuc2VzYW1l",
    "lpk_abcdefghijklmnop",
    "whsec_abcdefghijklmnop==",
    "sk-proj-abcdefghijklmnopqrstuv",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl",
    "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc",
    "https://example.com/file?Signature=abc&Expires=1",
    "password=hunter2 and PASSWD: 'x' and api-key=zz and Token = t0k",
    "client_secret=abc; cookie=lp; authorization=basic",
    "line one\nline two\r\tend",
    "sep\u2028para\u2029 and \x7f and \x85",
    "\x00null",
    "Kelvin \u212a and long \u017f",
    "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_fast_path_equals_the_full_chain(text: str) -> None:
    full = text
    for pattern, replacement in redaction._PATTERNS:
        full = pattern.sub(replacement, full)
    full = redaction._EMAIL.sub(r"\1***@\2", full)
    full = redaction._CONTROL.sub(redaction._escape_control, full)
    assert scrub_text(text) == full
