"""Secrets lifecycle through the operator CLI, run as real subprocesses.

* ``secret-fingerprints`` (run in staging) prints salted scrypt digests and never a value;
* ``check-config --staging-fingerprints FILE`` (or ``STAGING_SECRET_FINGERPRINTS[_FILE]``)
  refuses a production configuration sharing any secret with staging, whatever the setting it
  sits in, naming settings only;
* the SECRET_KEY ring: production refuses weak or repeated previous keys, every environment
  refuses a ring larger than three keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.core.config import Settings
from tests.email.keys import private_key, private_pem
from tests.support import run_cli

pytestmark = pytest.mark.checklist(
    "C4",
    red="let check-config accept a production secret whose fingerprint matches staging's, print a"
    " value from secret-fingerprints, or accept a weak, repeated or unbounded SECRET_KEY ring",
)


def _token() -> str:
    return secrets.token_hex(32)


def _whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def environment_secrets(dkim_label: str = "production") -> dict[str, str]:
    """A complete, distinct set of secrets for one environment (the DKIM key per label: RSA
    generation is slow, so one key per environment per run)."""
    return {
        "DKIM_PRIVATE_KEY": private_pem(private_key(label=dkim_label)),
        "SECRET_KEY": _token(),
        # pragma: allowlist nextline secret (a fake made at run time)
        "OPENAI_API_KEY": "sk-" + secrets.token_hex(24),
        "DATABASE_URL": f"postgresql://launchproof_app:{_token()[:24]}@db.internal/launchproof",
        "DATABASE_MIGRATION_URL": (
            f"postgresql://launchproof_owner:{_token()[:24]}@db.internal/launchproof"
        ),
        "REDIS_URL": f"redis://:{_token()[:24]}@redis.internal:6379/0",
        "SMTP_URL": f"smtps://mailer:{_token()[:24]}@smtp.internal:465",
        "WEBHOOK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "WEBHOOK_INBOUND_SECRETS": f"billing={_whsec()}",
        "METRICS_TOKEN": _token(),
    }


def cli_env(values: dict[str, str]) -> dict[str, str]:
    """Only these settings: nothing from the runner's shell leaks into a case."""
    names = {name.upper() for name in Settings.model_fields}
    names |= {f"{name}_FILE" for name in names}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update(
        ENVIRONMENT="production",
        PUBLIC_URL="https://api.launchproof.test",
        ALLOWED_ORIGINS="https://app.launchproof.test",
        ALLOWED_HOSTS="api.launchproof.test",
        CLAMD_URL="tcp://clamd.internal:3310",
        DKIM_SELECTOR="lp2026",
    )
    env.update(values)
    return env


@pytest.fixture(scope="module")
def staging() -> dict[str, str]:
    return environment_secrets("staging")


@pytest.fixture(scope="module")
def fingerprints(staging: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run_cli(cli_env(staging), "secret-fingerprints", "--environment", "staging")
    assert result.returncode == 0, result.stderr
    path = tmp_path_factory.mktemp("fingerprints") / "staging.json"
    path.write_text(result.stdout, encoding="utf-8")
    return path


def secret_parts(values: dict[str, str]) -> list[str]:
    """Every secret value, and every password inside a URL, of one environment."""
    parts = list(values.values())
    for value in values.values():
        if "://" in value and "@" in value:
            parts.append(value.split("://", 1)[1].rsplit("@", 1)[0].rsplit(":", 1)[-1])
        if "=" in value and not value.startswith("-----BEGIN"):
            parts.append(value.split("=", 1)[1])
    return [part for part in parts if len(part) >= 8]


def test_fingerprints_hold_no_secret_and_are_salted(
    staging: dict[str, str], fingerprints: Path
) -> None:
    text = fingerprints.read_text(encoding="utf-8")
    for part in secret_parts(staging):
        assert part not in text
    document = json.loads(text)
    settings = {entry["setting"] for entry in document["fingerprints"]}
    assert {
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "SMTP_URL",
        "METRICS_TOKEN",
        "WEBHOOK_ENCRYPTION_KEYS",
        "WEBHOOK_INBOUND_SECRETS[billing]",
    } <= settings
    assert document["kdf"]["name"] == "scrypt"
    assert document["kdf"]["n"] >= 2**14
    # A fresh salt per document: the same secrets never give the same digests twice.
    again = json.loads(run_cli(cli_env(staging), "secret-fingerprints").stdout)
    assert again["salt"] != document["salt"]
    first = {entry["digest"] for entry in document["fingerprints"]}
    assert first.isdisjoint(entry["digest"] for entry in again["fingerprints"])


def test_distinct_production_secrets_pass(fingerprints: Path) -> None:
    result = run_cli(
        cli_env(environment_secrets()), "check-config", "--staging-fingerprints", str(fingerprints)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "acceptable" in result.stdout


@pytest.mark.parametrize(
    ("setting", "borrow", "expected"),
    [
        pytest.param("SECRET_KEY", "SECRET_KEY", "SECRET_KEY is the same", id="secret-key"),
        # The same password on another host: URLs are compared by their password.
        pytest.param("REDIS_URL", "REDIS_URL", "REDIS_URL is the same", id="redis-password"),
        pytest.param("SMTP_URL", "SMTP_URL", "SMTP_URL is the same", id="smtp-password"),
        # Compared by value whatever the setting: staging's SECRET_KEY as production's token.
        pytest.param("METRICS_TOKEN", "SECRET_KEY", "staging's SECRET_KEY", id="cross-setting"),
        pytest.param(
            "WEBHOOK_ENCRYPTION_KEYS", "WEBHOOK_ENCRYPTION_KEYS", "WEBHOOK_ENC", id="fernet-key"
        ),
        pytest.param("DKIM_PRIVATE_KEY", "DKIM_PRIVATE_KEY", "DKIM_PRIVATE_KEY is", id="dkim-key"),
        pytest.param(
            "WEBHOOK_INBOUND_SECRETS", "WEBHOOK_INBOUND_SECRETS", "[billing]", id="inbound"
        ),
    ],
)
def test_a_secret_shared_with_staging_is_refused(
    staging: dict[str, str], fingerprints: Path, setting: str, borrow: str, expected: str
) -> None:
    production = environment_secrets()
    shared = staging[borrow]
    if setting == "REDIS_URL":
        password = shared.split("//:", 1)[1].split("@", 1)[0]
        shared = f"redis://:{password}@redis.production.internal:6379/0"
    if setting == "WEBHOOK_ENCRYPTION_KEYS":
        shared = f"{Fernet.generate_key().decode()},{shared}"  # hidden as a previous key
    production[setting] = shared
    result = run_cli(
        cli_env(production), "check-config", "--staging-fingerprints", str(fingerprints)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout
    for part in secret_parts(production):
        assert part not in result.stdout + result.stderr


def test_the_setting_refuses_a_production_start_too(
    staging: dict[str, str], fingerprints: Path
) -> None:
    production = {**environment_secrets(), "SECRET_KEY": staging["SECRET_KEY"]}
    env = cli_env({**production, "STAGING_SECRET_FINGERPRINTS_FILE": str(fingerprints)})
    result = run_cli(env, "check-config")
    assert result.returncode == 1
    assert "SECRET_KEY is the same secret as staging's SECRET_KEY" in result.stdout


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"format": "other"}', id="wrong-format"),
        pytest.param(
            '{"format": "launchproof-secret-fingerprints/1", '
            '"kdf": {"name": "scrypt", "n": 2, "r": 1, "p": 1}, "salt": "00", '
            '"fingerprints": []}',
            id="weak-kdf",
        ),
    ],
)
def test_a_malformed_fingerprints_file_is_a_problem_not_a_pass(
    document: str, tmp_path: Path
) -> None:
    path = tmp_path / "staging.json"
    path.write_text(document, encoding="utf-8")
    result = run_cli(
        cli_env(environment_secrets()), "check-config", "--staging-fingerprints", str(path)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "STAGING_SECRET_FINGERPRINTS" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_fingerprints_file_is_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.json")
    result = run_cli(
        cli_env(environment_secrets()), "check-config", "--staging-fingerprints", missing
    )
    assert result.returncode == 2
    assert "cannot read --staging-fingerprints" in result.stderr
    assert "Traceback" not in result.stderr


# --- The SECRET_KEY ring ----------------------------------------------------------------------


def test_a_rotated_ring_passes(tmp_path: Path) -> None:
    production = environment_secrets()
    previous = tmp_path / "secret_key_previous"
    previous.write_text(f"{_token()},{_token()}\n", encoding="utf-8")
    env = cli_env({**production, "SECRET_KEY_PREVIOUS_FILE": str(previous)})
    result = run_cli(env, "check-config")
    assert result.returncode == 0, result.stdout + result.stderr


PREVIOUS_KEY_CASES: dict[str, tuple[Callable[[], str], str]] = {
    "short": (lambda: secrets.token_hex(8), "entry 1 is shorter"),
    "placeholder": (lambda: "changeme-" + secrets.token_hex(20), "placeholder"),
    "duplicate": (lambda: ",".join([secrets.token_hex(20)] * 2), "twice"),
}


@pytest.mark.parametrize("case", [*PREVIOUS_KEY_CASES, "same-as-current"])
def test_weak_or_repeated_previous_keys_are_refused(case: str) -> None:
    production = environment_secrets()
    if case == "same-as-current":
        value, expected = production["SECRET_KEY"], "repeats SECRET_KEY"
    else:
        make, expected = PREVIOUS_KEY_CASES[case]
        value = make()
    result = run_cli(cli_env({**production, "SECRET_KEY_PREVIOUS": value}), "check-config")
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout
    assert value.split(",")[0] not in result.stdout + result.stderr


def test_the_ring_is_bounded_in_every_environment() -> None:
    three = ",".join(_token() for _ in range(3))
    env = cli_env({**environment_secrets(), "ENVIRONMENT": "development"})
    result = run_cli({**env, "SECRET_KEY_PREVIOUS": three}, "check-config")
    assert result.returncode != 0
    assert "SECRET_KEY_PREVIOUS holds at most 2 keys" in result.stdout + result.stderr
    assert three.split(",")[0] not in result.stdout + result.stderr
