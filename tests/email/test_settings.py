"""Production refuses to start without SMTP and a DKIM key; a weak DKIM key never loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import Environment, Settings
from tests.email.keys import private_key, private_pem
from tests.support import run_cli

pytestmark = pytest.mark.checklist(
    "C4",
    "C10",
    red="let production start without SMTP_URL or a DKIM key, load a DKIM key under 2048 bits, or"
    " print the key file",
)


def problems(**values: object) -> list[str]:
    return Settings(environment=Environment.PRODUCTION, **values).production_problems()  # type: ignore[arg-type]


def test_production_requires_smtp_and_dkim() -> None:
    found = problems()
    assert "SMTP_URL is not set" in found
    assert "DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE) is not set" in found
    assert "DKIM_SELECTOR is not set" in found
    configured = problems(
        smtp_url="smtps://relay.example.com",
        dkim_private_key=private_pem(private_key()),
        dkim_selector="lp2026",
    )
    assert not [p for p in configured if "SMTP" in p or "DKIM" in p]


def test_a_1024_bit_dkim_key_is_refused_in_every_environment() -> None:
    with pytest.raises(ValidationError, match="at least 2048 bits"):
        Settings(
            environment=Environment.DEVELOPMENT, dkim_private_key=private_pem(private_key(1024))
        )
    with pytest.raises(ValidationError, match="not an unencrypted PEM private key"):
        Settings(dkim_private_key="-----BEGIN RSA PRIVATE KEY-----\nnope\n")


def test_a_weak_metrics_token_is_refused_only_when_set() -> None:
    assert not [p for p in problems() if "METRICS_TOKEN" in p]
    assert "METRICS_TOKEN is shorter than 32 characters" in problems(metrics_token="short")
    assert "METRICS_TOKEN looks like a placeholder" in problems(metrics_token="changeme" * 5)


def test_the_key_file_is_read_and_never_printed(tmp_path: Path) -> None:
    key_file = tmp_path / "dkim.pem"
    key_file.write_text(private_pem(private_key(1024)))
    result = run_cli({"DKIM_PRIVATE_KEY_FILE": str(key_file)}, "check-config")
    assert result.returncode != 0
    assert "2048" in result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr
