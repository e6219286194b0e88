"""The Kubernetes deployment's security and availability properties, on the manifests kustomize
really renders for each overlay (infra/k8s; docs/deploy.md "Kubernetes").

Every property is a check in tests/infra/k8s_checks.py; each overlay must pass all of them, and
``test_removing_a_property_is_caught`` removes one property at a time from a rendered overlay
and requires the checks to notice, so no check can silently stop checking.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from secrets import token_bytes, token_hex
from typing import Any

import pytest

from app.core.config import Settings
from tests.infra import k8s_checks
from tests.infra.k8s_render import OVERLAYS, Doc, by_kind, named, pod, pods, render, render_all

pytestmark = pytest.mark.checklist(
    "C4",
    "C14",
    red="remove a security property from infra/k8s (non-root, read-only root, dropped "
    "capabilities, probes, replicas), give the API the owner credential, or share a secret "
    "between staging and production",
)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_property_holds(overlay: str) -> None:
    assert k8s_checks.problems(render_all(overlay)) == []


def _container(docs: list[Doc], component: str) -> Doc:
    found: Doc = pod(docs, component).spec["containers"][0]
    return found


def _set(path: list[Any], value: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        target: Any = _container(docs, path[0])
        for key in path[1:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value

    return mutate


def _pod_spec(component: str, key: str, value: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        spec = pod(docs, component).spec
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value

    return mutate


def _everywhere(key: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        for p in pods(docs):
            p.spec.get("securityContext", {}).pop(key, None)
            for c in p.containers:
                c.get("securityContext", {}).pop(key, None)

    return mutate


def _policy(name: str, edit: Callable[[Doc], None]) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        for doc in docs:
            if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"] == name:
                edit(doc["spec"])

    return mutate


def _drop_metadata_range(spec: Doc) -> None:
    block = spec["egress"][0]["to"][0]["ipBlock"]
    block["except"] = [e for e in block["except"] if e != "169.254.0.0/16"]


def _inline_secret(docs: list[Doc]) -> None:
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {}})


def _secret_in_env(docs: list[Doc]) -> None:
    _container(docs, "worker").setdefault("env", []).append(
        {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "a", "key": "b"}}}
    )


def _load_balancer(docs: list[Doc]) -> None:
    for doc in docs:
        if doc["kind"] == "Service":
            doc["spec"]["type"] = "LoadBalancer"


def _drop_kinds(*kinds: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        docs[:] = [doc for doc in docs if doc["kind"] not in kinds]

    return mutate


def _psa_off(docs: list[Doc]) -> None:
    for doc in docs:
        if doc["kind"] == "Namespace":
            doc["metadata"]["labels"].pop("pod-security.kubernetes.io/enforce")


def _unmount_tmp(docs: list[Doc]) -> None:
    c = _container(docs, "api")
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["mountPath"] != k8s_checks.TMP]


MUTATIONS: dict[str, Callable[[list[Doc]], None]] = {
    "writable root filesystem": _set(["api", "securityContext", "readOnlyRootFilesystem"], None),
    "privilege escalation": _set(["worker", "securityContext", "allowPrivilegeEscalation"], True),
    "capabilities kept": _set(["cloudflared", "securityContext", "capabilities"], None),
    "no seccomp profile": _everywhere("seccompProfile"),
    "runs as root": _everywhere("runAsUser"),
    "may run as root": _everywhere("runAsNonRoot"),
    "service account token": _pod_spec("migrate", "automountServiceAccountToken", True),
    "host network": _pod_spec("backup", "hostNetwork", True),
    "no limits": _set(["backup", "resources", "limits"], None),
    "image by tag": _set(["api", "image"], "ghcr.io/owner/launchproof:latest"),
    "no readiness probe": _set(["api", "readinessProbe"], None),
    "liveness on /readyz": _set(["api", "livenessProbe", "httpGet", "path"], "/readyz"),
    "no startup probe": _set(["worker", "startupProbe"], None),
    "no preStop": _set(["api", "lifecycle"], None),
    "short grace period": _pod_spec("api", "terminationGracePeriodSeconds", 30),
    "tmp not writable": _unmount_tmp,
    "no multiprocess dir": _set(["api", "env"], []),
    "LoadBalancer service": _load_balancer,
    "no tunnel": _drop_kinds("Deployment"),
    "no pod security admission": _psa_off,
    "no HPA": _drop_kinds("HorizontalPodAutoscaler"),
    "no PDB": _drop_kinds("PodDisruptionBudget"),
    "replicas fight the HPA": lambda docs: pod(docs, "api").owner["spec"].update(replicas=2),
    "inlined Secret": _inline_secret,
    "secret as an environment variable": _secret_in_env,
    "no ExternalSecret": _drop_kinds("ExternalSecret"),
    "no default deny": _policy("default-deny-all", lambda s: s.update(policyTypes=["Ingress"])),
    "API open to every pod": _policy(
        "api-ingress", lambda s: s["ingress"][0].update({"from": [{"podSelector": {}}]})
    ),
    "metadata address reachable": _policy("egress-public-https", _drop_metadata_range),
    "egress on every port": _policy("egress-public-https", lambda s: s["egress"][0].pop("ports")),
    "wide datastore range": _policy(
        "egress-postgresql", lambda s: s["egress"][0]["to"][0]["ipBlock"].update(cidr="10.0.0.0/8")
    ),
    "backup reaches the internet": _policy(
        "egress-public-https",
        lambda s: s["podSelector"]["matchExpressions"][0]["values"].append("backup"),
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_removing_a_property_is_caught(mutation: str) -> None:
    docs = render_all("production")
    MUTATIONS[mutation](docs)
    assert k8s_checks.problems(docs), f"removing '{mutation}' went unnoticed"


def _file_value(field: str) -> str:
    """A value of the right shape for each secret setting (some are parsed at startup)."""
    if field == "dkim_private_key":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    if field == "webhook_inbound_secrets":
        return "billing=whsec_" + base64.b64encode(token_bytes(24)).decode()
    if field == "webhook_encryption_keys":
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()
    if field.endswith("_url"):
        scheme = {"database_url": "postgresql", "redis_url": "rediss", "smtp_url": "smtp+starttls"}
        return f"{scheme[field]}://user-{token_hex(4)}:{token_hex(16)}@db.internal.test:1/x"
    if field == "sentry_dsn":
        return f"https://{token_hex(16)}@o1.ingest.sentry.invalid/1"
    return token_hex(24)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_pods_settings_pass_the_production_check(
    overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's environment, as rendered, with its secret files: every NAME_FILE feeds its
    setting from a key the ExternalSecret syncs, and the app's own production check (what
    makes a pod refuse to start) finds nothing to refuse."""
    docs = render(overlay, "app")
    synced = {
        item["secretKey"]
        for item in named(docs, "ExternalSecret", "launchproof-app")["spec"]["data"]
    }
    config = {k: v for cm in by_kind(docs, "ConfigMap") for k, v in cm.get("data", {}).items()}
    paths = {k: v for k, v in config.items() if k.endswith("_FILE")}
    assert len(paths) >= 10, "secret files missing"
    for key in list(os.environ):
        if key.endswith("_FILE") or key.lower() in Settings.model_fields:
            monkeypatch.delenv(key)
    for name, value in config.items():
        if not name.endswith("_FILE") and name.lower() in Settings.model_fields:
            monkeypatch.setenv(name, value)
    expected: dict[str, str] = {}
    for name, path in paths.items():
        assert path.startswith("/var/run/secrets/launchproof/"), path
        key = path.rsplit("/", 1)[1]
        assert key in synced, f"{name}: {key} is not synced by the ExternalSecret"
        field = name.removesuffix("_FILE").lower()
        expected[field] = _file_value(field)
        (tmp_path / key).write_text(expected[field] + "\n")
        monkeypatch.setenv(name, str(tmp_path / key))
    settings = Settings()
    for field, value in expected.items():
        got = getattr(settings, field)
        assert got is not None, field
        assert got.get_secret_value() == value.strip(), field
    assert settings.environment.value == "production"
    assert settings.production_problems() == []
    for component in ("api", "worker"):
        mounts = {m["mountPath"] for m in _container(docs, component)["volumeMounts"]}
        assert "/var/run/secrets/launchproof" in mounts, component


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_migration_job_holds_the_owner_credential(overlay: str) -> None:
    migrate, app = render(overlay, "migrate"), render(overlay, "app")
    job = pod(migrate, "migrate")
    assert [p.component for p in pods(migrate)] == ["migrate"]
    env = {e["name"] for e in job.spec["containers"][0].get("env", [])}
    assert "DATABASE_MIGRATION_URL_FILE" in env
    for p in pods(app):
        secrets = {v.get("secret", {}).get("secretName") for v in p.spec.get("volumes", [])}
        assert "launchproof-migrate" not in secrets, p.name
        for c in p.containers:
            assert "DATABASE_MIGRATION_URL_FILE" not in {e["name"] for e in c.get("env", [])}
    # The Job migrates with exactly the image the rollout will run.
    assert job.spec["containers"][0]["image"] == _container(app, "api")["image"]
    assert job.spec["containers"][0]["image"] == _container(app, "worker")["image"]


def test_staging_and_production_share_no_secret() -> None:
    def sources(overlay: str) -> tuple[set[str], set[str]]:
        stores: set[str] = set()
        keys: set[str] = set()
        for es in by_kind(render_all(overlay), "ExternalSecret"):
            stores.add(es["spec"]["secretStoreRef"]["name"])
            keys |= {item["remoteRef"]["key"] for item in es["spec"]["data"]}
        return stores, keys

    staging, production = sources("staging"), sources("production")
    assert not staging[0] & production[0], "a secret store is shared"
    assert not staging[1] & production[1], "a remote secret is shared"
    namespaces = {o: by_kind(render_all(o), "Namespace")[0]["metadata"]["name"] for o in OVERLAYS}
    assert namespaces["staging"] != namespaces["production"]


def test_worker_runs_several_replicas_in_production() -> None:
    worker = named(render("production", "app"), "Deployment", "launchproof-worker")
    assert worker["spec"]["replicas"] >= 2
