"""The one-host compose file (infra/compose/): schema-valid, and every property it promises
holds. Each policy returns what is wrong: nothing for the real file, and something for each
mutation below (the property removed from a copy), so no check can pass vacuously."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from sqlalchemy.engine import make_url

from app.core.config import Settings
from tests.support import ROOT

pytestmark = pytest.mark.checklist("C14", red="remove a hardening property from infra/compose")

COMPOSE_DIR = ROOT / "infra" / "compose"
SCHEMA = COMPOSE_DIR / "schema" / "compose-spec.json"
# Networks with a route off the host, and exactly who is on each (one purpose each).
EGRESS = {
    "egress_tunnel": {"cloudflared"},
    "egress_app": {"api", "worker"},
    "egress_updates": {"freshclam"},
}
EDGE_MEMBERS = {"cloudflared", "api"}
ONE_SHOTS = {"volume-init", "migrate"}
CAP_ADD_ALLOWED = {"volume-init": {"CHOWN"}}
# Production-required secret settings api and worker must receive (as NAME_FILE).
REQUIRED_APP_SECRETS = {
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "OPENAI_API_KEY", "WEBHOOK_ENCRYPTION_KEYS",
    "SMTP_URL", "DKIM_PRIVATE_KEY", "METRICS_TOKEN",
}  # fmt: skip
# Secrets of the third-party images, which must never be plain environment values either.
OTHER_SECRET_VARS = {"POSTGRES_PASSWORD", "TUNNEL_TOKEN", "REDIS_PASSWORD", "PGPASSWORD"}
PINNED = re.compile(r"^[\w.\-/]+(:\d+\.\d+(\.\d+)?(-[\w.]+)?)?(@sha256:[0-9a-f]{64})?$")
VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")

Doc = dict[str, Any]


def load() -> Doc:
    # A JSON round trip drops the `x-` anchors' sharing: a mutation touches one service only.
    return json.loads(json.dumps(yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())))  # type: ignore[no-any-return]


def env_example() -> dict[str, str]:
    lines = (COMPOSE_DIR / ".env.example").read_text(encoding="utf-8").splitlines()
    pairs = [line.partition("=")[::2] for line in lines if line and not line.startswith("#")]
    return {name.strip(): value.strip().strip('"') for name, value in pairs}


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose interpolation of ${VAR}, ${VAR:-default}, ${VAR:?error} against .env.example."""
    env = env_example() if env is None else env

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env and env[name]:
            return env[name]
        if op and op.endswith("?"):
            raise AssertionError(f"{name} is required but not in .env.example")
        return arg or ""

    return VAR.sub(one, value).replace("$$", "$")


def services(doc: Doc) -> dict[str, Doc]:
    return doc["services"]  # type: ignore[no-any-return]


def networks_of(service: Doc) -> set[str]:
    return set(service.get("networks") or [])


def environment(service: Doc) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping"
    return {str(k): str(v) for k, v in env.items()}


def command_text(service: Doc) -> str:
    command = service.get("command") or []
    return " ".join(command) if isinstance(command, list) else str(command)


# --- Policies: each returns the violations it finds --------------------------------------


def check_hardening(doc: Doc) -> list[str]:
    problems = []
    for name, s in services(doc).items():
        if s.get("privileged"):
            problems.append(f"{name}: privileged")
        if s.get("read_only") is not True:
            problems.append(f"{name}: root filesystem not read-only")
        if "no-new-privileges:true" not in (s.get("security_opt") or []):
            problems.append(f"{name}: no-new-privileges missing")
        if "ALL" not in (s.get("cap_drop") or []):
            problems.append(f"{name}: capabilities not dropped")
        if not set(s.get("cap_add") or []) <= CAP_ADD_ALLOWED.get(name, set()):
            problems.append(f"{name}: adds capabilities {s['cap_add']}")
        for key in ("network_mode", "pid", "ipc", "userns_mode"):
            if s.get(key) == "host":
                problems.append(f"{name}: {key} host")
        if any("docker.sock" in str(v) for v in s.get("volumes") or []):
            problems.append(f"{name}: mounts the Docker socket")
    return problems


def check_no_ports(doc: Doc) -> list[str]:
    return [f"{name}: publishes ports" for name, s in services(doc).items() if s.get("ports")]


def check_images(doc: Doc) -> list[str]:
    problems = []
    for name, s in services(doc).items():
        image = interpolate(s["image"])
        if image.endswith(":latest") or not PINNED.match(image) or not re.search(r"[:@]", image):
            problems.append(f"{name}: image {image} is not pinned to a version or digest")
    if "@sha256:" not in env_example()["LAUNCHPROOF_IMAGE"]:
        problems.append("LAUNCHPROOF_IMAGE in .env.example is not a digest")
    return problems


def check_long_running(doc: Doc) -> list[str]:
    problems = []
    for name, s in services(doc).items():
        if name in ONE_SHOTS:
            continue
        check = s.get("healthcheck") or {}
        if not check.get("test") or check.get("disable"):
            problems.append(f"{name}: no healthcheck")
        if s.get("restart") not in {"unless-stopped", "always"}:
            problems.append(f"{name}: no restart policy")
        limits = ((s.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if not {"cpus", "memory"} <= set(limits):
            problems.append(f"{name}: no cpu/memory limits")
        logging = s.get("logging") or {}
        options = logging.get("options") or {}
        if logging.get("driver") != "json-file" or not {"max-size", "max-file"} <= set(options):
            problems.append(f"{name}: logs not rotated")
    for name in ONE_SHOTS:
        if services(doc)[name].get("restart") != "no":
            problems.append(f"{name}: a one-shot must not restart")
    return problems


def secret_setting_names() -> set[str]:
    """Every app setting typed SecretStr: these may only arrive as NAME_FILE."""
    fields = Settings.model_fields.items()
    return {name.upper() for name, field in fields if "SecretStr" in str(field.annotation)}


def check_secrets(doc: Doc) -> list[str]:
    problems = []
    forbidden = secret_setting_names() | OTHER_SECRET_VARS
    for name, s in services(doc).items():
        env = environment(s)
        for key, value in env.items():
            if key in forbidden:
                problems.append(f"{name}: secret {key} given as an environment value")
            if re.search(r"://[^/@\s]*:[^/@\s]+@", value):
                problems.append(f"{name}: {key} embeds a credential")
            if key.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                if secret == value or secret not in (s.get("secrets") or []):
                    problems.append(f"{name}: {key} does not point at a secret it mounts")
        if name in {"api", "worker"}:
            missing = {k for k in REQUIRED_APP_SECRETS if f"{k}_FILE" not in env}
            problems += [f"{name}: {key}_FILE missing" for key in sorted(missing)]
    for secret, spec in (doc.get("secrets") or {}).items():
        if set(spec) != {"file"}:
            problems.append(f"secret {secret}: not a file")
    return problems


def check_networks(doc: Doc) -> list[str]:
    problems = []
    declared: dict[str, Doc] = {k: v or {} for k, v in (doc.get("networks") or {}).items()}
    for network, spec in declared.items():
        members = {n for n, s in services(doc).items() if network in networks_of(s)}
        if network in EGRESS:
            if members != EGRESS[network]:
                problems.append(f"{network}: egress for {sorted(members)}")
        elif spec.get("internal") is not True:
            problems.append(f"{network}: not internal")
        if network == "edge" and members != EDGE_MEMBERS:
            problems.append(f"edge: reachable by {sorted(members)}")
    for name, s in services(doc).items():
        if not networks_of(s) and s.get("network_mode") != "none":
            problems.append(f"{name}: on the default (egress) network")
        if not networks_of(s) <= set(declared):
            problems.append(f"{name}: on an undeclared network")
    return problems


def check_order(doc: Doc) -> list[str]:
    problems = []
    every = services(doc)
    for name in ("api", "worker"):
        condition = ((every[name].get("depends_on") or {}).get("migrate") or {}).get("condition")
        if condition != "service_completed_successfully":
            problems.append(f"{name}: does not wait for migrate to complete")
    migrate = every["migrate"]
    if (migrate.get("command") or [])[-3:] != ["-m", "app", "migrate"]:
        problems.append("migrate: does not run `python -m app migrate`")
    if (migrate.get("depends_on") or {}).get("postgres", {}).get("condition") != "service_healthy":
        problems.append("migrate: does not wait for a healthy PostgreSQL")
    if "DATABASE_MIGRATION_URL_FILE" not in environment(migrate):
        problems.append("migrate: not run as the owner role")
    return problems


def check_redis_password(doc: Doc) -> list[str]:
    redis = services(doc)["redis"]
    text = command_text(redis)
    problems = []
    if "requirepass" not in text or "/run/secrets/redis_password" not in text:
        problems.append("redis: no password from the secret file")
    if "redis_password" not in (redis.get("secrets") or []):
        problems.append("redis: redis_password not mounted")
    if "REDISCLI_AUTH" not in str(redis.get("healthcheck")):
        problems.append("redis: healthcheck does not authenticate")
    return problems


def check_tunnel(doc: Doc) -> list[str]:
    every = services(doc)
    tunnel = every["cloudflared"]
    problems = []
    if "--token-file /run/secrets/cloudflare_tunnel_token" not in command_text(tunnel):
        problems.append("cloudflared: token not read from a file")
    address = interpolate(tunnel["networks"]["edge"]["ipv4_address"])
    for name in ("api", "worker"):
        if interpolate(environment(every[name])["TRUSTED_PROXY_CIDRS"]) != f"{address}/32":
            problems.append(f"{name}: trusts forwarding headers from more than cloudflared")
    return problems


def check_processes(doc: Doc) -> list[str]:
    every = services(doc)
    problems = []
    workers = re.search(r"--workers (\S+)", command_text(every["api"]))
    if not workers or int(interpolate(workers.group(1))) < 2:
        problems.append("api: fewer than 2 worker processes")
    backup = every.get("backup") or {}
    if "pg_dump" not in command_text(backup) or not any(
        str(v).startswith("backups:") for v in backup.get("volumes") or []
    ):
        problems.append("backup: no pg_dump into the backups volume")
    for name in ("api", "worker", "migrate"):
        if not every[name]["image"].startswith("${LAUNCHPROOF_IMAGE:?"):
            problems.append(f"{name}: not the application image")
    return problems


POLICIES: dict[str, Callable[[Doc], list[str]]] = {
    name.removeprefix("check_"): check
    for name, check in globals().items()
    if name.startswith("check_")
}


def test_the_file_is_valid_against_the_compose_schema() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    validator.validate(load())
    typo = load()
    typo["services"]["api"]["healthchek"] = typo["services"]["api"].pop("healthcheck")
    assert not validator.is_valid(typo)  # a misspelt key is an error, not silently ignored


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_the_file_meets_the_policy(policy: str) -> None:
    assert POLICIES[policy](load()) == []


def _set(path: str, value: Any = None) -> Callable[[Doc], None]:
    """A mutation: set services.<path> (dotted) to value; no value deletes the key."""

    def mutate(doc: Doc) -> None:
        *parents, last = path.split(".")
        node = services(doc)
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return mutate


def _top(section: str, key: str, value: Any) -> Callable[[Doc], None]:
    return lambda doc: doc[section].update({key: value})


# fmt: off
MUTATIONS: dict[str, tuple[Callable[[Doc], object], str]] = {
    "api privileged": (_set("api.privileged", True), "hardening"),
    "redis writable root": (_set("redis.read_only"), "hardening"),
    "worker keeps capabilities": (_set("worker.cap_drop"), "hardening"),
    "api adds SYS_ADMIN": (_set("api.cap_add", ["SYS_ADMIN"]), "hardening"),
    "clamd may escalate": (_set("clamd.security_opt", []), "hardening"),
    "docker socket": (_set("backup.volumes", ["/var/run/docker.sock:/s"]), "hardening"),
    "postgres port": (_set("postgres.ports", ["5432:5432"]), "no_ports"),
    "redis latest": (_set("redis.image", "redis:latest"), "images"),
    "untagged image": (_set("backup.image", "postgres"), "images"),
    "redis no healthcheck": (_set("redis.healthcheck"), "long_running"),
    "healthcheck off": (_set("cloudflared.healthcheck", {"disable": True}), "long_running"),
    "clamd no restart": (_set("clamd.restart"), "long_running"),
    "api no limits": (_set("api.deploy"), "long_running"),
    "freshclam no log rotation": (_set("freshclam.logging"), "long_running"),
    "migrate restarts": (_set("migrate.restart", "always"), "long_running"),
    "plain SECRET_KEY": (_set("worker.environment.SECRET_KEY", "x"), "secrets"),
    "plain POSTGRES_PASSWORD": (_set("postgres.environment.POSTGRES_PASSWORD", "x"), "secrets"),
    "URL with a password": (_set("api.environment.SENTRY_URL", "https://u:p@h/1"), "secrets"),
    "secret file not mounted": (_set("api.secrets", ["database_url"]), "secrets"),
    "no DKIM key": (_set("worker.environment.DKIM_PRIVATE_KEY_FILE"), "secrets"),
    "secret not a file": (_top("secrets", "x", {"environment": "X"}), "secrets"),
    "postgres on egress": (_set("postgres.networks", ["backend", "egress_app"]), "networks"),
    "backend not internal": (_top("networks", "backend", {}), "networks"),
    "clamd default network": (_set("clamd.networks"), "networks"),
    "redis on edge": (_set("redis.networks", ["backend", "edge"]), "networks"),
    "api skips migrate": (_set("api.depends_on.migrate"), "order"),
    "worker races migrate": (_set("worker.depends_on.migrate.condition", "started"), "order"),
    "redis no password": (_set("redis.command", ["exec redis-server"]), "redis_password"),
    "tunnel token in env": (_set("cloudflared.command", ["tunnel", "run"]), "tunnel"),
    "trusts any peer": (_set("api.environment.TRUSTED_PROXY_CIDRS", "0.0.0.0/0"), "tunnel"),
    "one api process": (_set("api.command", ["python", "-m", "app", "serve"]), "processes"),
    "no backup": (lambda doc: services(doc).pop("backup"), "processes"),
}
# fmt: on


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_policy_reports_its_property_removed(mutation: str) -> None:
    mutate, policy = MUTATIONS[mutation]
    doc = load()
    mutate(doc)
    assert POLICIES[policy](doc), f"{policy} did not notice: {mutation}"


def test_bind_mounts_exist() -> None:
    for name, s in services(load()).items():
        for volume in s.get("volumes") or []:
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).is_file(), f"{name}: {source} missing"


@pytest.mark.checklist("C4", red="put a real-looking secret value in .env.example")
def test_env_example_holds_no_secret() -> None:
    names = set(env_example())
    assert not names & (secret_setting_names() | OTHER_SECRET_VARS)
    assert not any(name.endswith(("_PASSWORD", "_TOKEN", "_KEY")) for name in names)


def test_the_generated_secrets_pass_the_production_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make-secrets.sh plus the four external secrets give api settings production accepts."""
    assert shutil.which("openssl"), "openssl is needed by make-secrets.sh"
    secrets = tmp_path / "secrets"
    command = ["bash", str(COMPOSE_DIR / "make-secrets.sh"), str(secrets)]
    first = subprocess.run(command, capture_output=True, text=True, check=False)
    assert first.returncode == 1  # the external secrets are reported missing
    assert "missing  dkim_private_key" in first.stdout
    _write_external_secrets(secrets)
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    doc = load()
    for name in list(Settings.model_fields):  # the test run's own settings must not leak in
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(f"{name.upper()}_FILE", raising=False)
    for key, value in environment(services(doc)["api"]).items():
        monkeypatch.setenv(key, interpolate(value).replace("/run/secrets", str(secrets)))
    settings = Settings()
    assert settings.production_problems() == []
    assert settings.database_url is not None
    app_user = make_url(settings.database_url.get_secret_value()).username
    assert app_user == environment(services(doc)["migrate"])["DATABASE_APP_ROLE"]


def _write_external_secrets(directory: Path) -> None:
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    (directory / "dkim_private_key").write_bytes(pem)
    (directory / "smtp_url").write_text("smtp+starttls://mail.invalid:587")
    (directory / "openai_api_key").write_text("k" * 48)
    (directory / "cloudflare_tunnel_token").write_text("t" * 48)
