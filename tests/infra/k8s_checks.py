"""The deployment properties of infra/k8s, as checks over rendered manifests.

Each check returns a list of problems (empty = holds), so tests/infra/test_k8s_policy.py can
assert both that every overlay passes and that removing a property makes its check fail.
"""

from __future__ import annotations

import re
from ipaddress import ip_network
from typing import Any

from tests.infra.k8s_render import Doc, Pod, by_kind, pods

DIGEST = re.compile(r"^[a-z0-9./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$")
# The webhook and fetch egress must never reach these (RFC 1918, shared address space,
# link-local incl. the metadata address 169.254.169.254, loopback, IPv6 ULA and link-local).
PRIVATE_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "fc00::/7",
    "fe80::/10",
)
DATASTORE_PORTS = {5432, 6379}
TMP = "/tmp"  # noqa: S108 - the path checked, not one used
# What SIGTERM may take to finish in the API: the longer of a chat turn's model call
# (CHAT_REQUEST_TIMEOUT_SECONDS' default) and the shutdown grace given to open streams.
API_DRAIN_SECONDS = 60
SECRET_SETTING_NAMES = (
    "SECRET_KEY",
    "OPENAI_API_KEY",
    "DATABASE_URL",
    "DATABASE_MIGRATION_URL",
    "REDIS_URL",
    "METRICS_TOKEN",
    "SMTP_URL",
    "DKIM_PRIVATE_KEY",
    "WEBHOOK_ENCRYPTION_KEYS",
    "WEBHOOK_INBOUND_SECRETS",
    "SENTRY_DSN",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "TUNNEL_TOKEN",
    "PGPASSWORD",
)


def _ctx(pod: Pod, container: Doc, key: str) -> Any:
    """A security setting: the container's, else the pod's (Kubernetes' own precedence)."""
    own = container.get("securityContext", {})
    return own[key] if key in own else pod.spec.get("securityContext", {}).get(key)


def pod_security(docs: list[Doc]) -> list[str]:
    problems: list[str] = []
    for pod in pods(docs):
        where = f"{pod.kind}/{pod.name}"
        spec = pod.spec
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken is not false")
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(host):
                problems.append(f"{where}: {host}")
        for volume in spec.get("volumes", []):
            if "hostPath" in volume:
                problems.append(f"{where}: hostPath volume {volume['name']}")
        for c in pod.containers:
            cw = f"{where}/{c['name']}"
            own = c.get("securityContext", {})
            if _ctx(pod, c, "runAsNonRoot") is not True:
                problems.append(f"{cw}: runAsNonRoot is not true")
            uid = _ctx(pod, c, "runAsUser")
            if not isinstance(uid, int) or uid < 1000:
                problems.append(f"{cw}: no fixed non-root runAsUser")
            if own.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{cw}: allowPrivilegeEscalation is not false")
            if own.get("privileged"):
                problems.append(f"{cw}: privileged")
            caps = own.get("capabilities", {})
            if "ALL" not in caps.get("drop", []) or caps.get("add"):
                problems.append(f"{cw}: capabilities are not drop ALL")
            if (_ctx(pod, c, "seccompProfile") or {}).get("type") != "RuntimeDefault":
                problems.append(f"{cw}: seccompProfile is not RuntimeDefault")
            if own.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{cw}: readOnlyRootFilesystem is not true")
            resources = c.get("resources", {})
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(part, {})):
                    problems.append(f"{cw}: no cpu/memory {part}")
            if not DIGEST.match(c.get("image", "")):
                problems.append(f"{cw}: image not pinned by digest: {c.get('image')}")
            for port in c.get("ports", []):
                if "hostPort" in port:
                    problems.append(f"{cw}: hostPort")
    return problems


def writable_paths(docs: list[Doc]) -> list[str]:
    """Read-only roots: /tmp and every directory the app writes are emptyDir mounts."""
    problems: list[str] = []
    for pod in pods(docs):
        empty = {v["name"] for v in pod.spec.get("volumes", []) if "emptyDir" in v}
        for c in pod.containers:
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            needed = {TMP}
            for name in ("PROMETHEUS_MULTIPROC_DIR", "TMPDIR"):
                if env.get(name):
                    needed.add(env[name])
            if pod.component == "api" and "PROMETHEUS_MULTIPROC_DIR" not in env:
                problems.append(f"{pod.name}: the API has no PROMETHEUS_MULTIPROC_DIR")
            for path in sorted(needed):
                if mounts.get(path) not in empty:
                    problems.append(f"{pod.name}/{c['name']}: {path} is not an emptyDir mount")
    return problems


def _http_path(probe: Doc | None) -> str | None:
    path: str | None = (probe or {}).get("httpGet", {}).get("path")
    return path


def lifecycle(docs: list[Doc]) -> list[str]:
    """Long-running pods: probes, a preStop pause, a grace period above the drain."""
    problems: list[str] = []
    for pod in pods(docs):
        if pod.kind != "Deployment":
            continue
        for c in pod.spec["containers"]:
            cw = f"{pod.name}/{c['name']}"
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe not in c:
                    problems.append(f"{cw}: no {probe}")
            pre_stop = c.get("lifecycle", {}).get("preStop", {})
            pause = pre_stop.get("sleep", {}).get("seconds", 0)
            if pause < 1:
                problems.append(f"{cw}: no preStop sleep")
            drain = API_DRAIN_SECONDS if pod.component == "api" else 0
            if pod.spec.get("terminationGracePeriodSeconds", 30) <= pause + drain:
                problems.append(f"{cw}: terminationGracePeriodSeconds not above the drain")
            if pod.component == "api":
                if _http_path(c.get("livenessProbe")) != "/healthz":
                    problems.append(f"{cw}: liveness is not /healthz")
                if _http_path(c.get("startupProbe")) != "/healthz":
                    problems.append(f"{cw}: startup is not /healthz")
                if _http_path(c.get("readinessProbe")) != "/readyz":
                    problems.append(f"{cw}: readiness is not /readyz")
    return problems


def exposure(docs: list[Doc]) -> list[str]:
    """Nothing is reachable from outside the cluster but through the tunnel."""
    problems: list[str] = []
    for svc in by_kind(docs, "Service"):
        kind = svc["spec"].get("type", "ClusterIP")
        if kind != "ClusterIP":
            problems.append(f"Service/{svc['metadata']['name']} is {kind}")
        if svc["spec"].get("externalIPs"):
            problems.append(f"Service/{svc['metadata']['name']} has externalIPs")
    for kind in ("Ingress", "Gateway", "HTTPRoute"):
        if by_kind(docs, kind):
            problems.append(f"an {kind} exists")
    if not any(p.component == "cloudflared" for p in pods(docs)):
        problems.append("no cloudflared")
    return problems


def namespace(docs: list[Doc]) -> list[str]:
    spaces = by_kind(docs, "Namespace")
    if len(spaces) != 1:
        return [f"{len(spaces)} namespaces"]
    labels = spaces[0]["metadata"].get("labels", {})
    if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
        return ["namespace does not enforce the restricted Pod Security profile"]
    name = spaces[0]["metadata"]["name"]
    stray = [d["metadata"]["name"] for d in docs if d["metadata"].get("namespace", name) != name]
    return [f"objects outside the namespace: {stray}"] if stray else []


def availability(docs: list[Doc]) -> list[str]:
    problems: list[str] = []
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    if not any(h["spec"]["scaleTargetRef"]["name"] == "launchproof-api" for h in hpas):
        problems.append("no HPA for the API")
    for hpa in hpas:
        if hpa["spec"].get("minReplicas", 1) < 2:
            problems.append("the API HPA allows a single replica")
        target = hpa["spec"]["scaleTargetRef"]["name"]
        for deployment in by_kind(docs, "Deployment"):
            if deployment["metadata"]["name"] == target and "replicas" in deployment["spec"]:
                problems.append(f"{target} sets replicas beside its HPA (each apply resets it)")
    covered = {
        pdb["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/component")
        for pdb in by_kind(docs, "PodDisruptionBudget")
    }
    for component in ("api", "worker", "cloudflared"):
        if component not in covered:
            problems.append(f"no PodDisruptionBudget for {component}")
    return problems


def secrets_referenced(docs: list[Doc]) -> list[str]:
    """No Secret is inlined: every mounted Secret is the target of an ExternalSecret."""
    problems: list[str] = []
    for secret in by_kind(docs, "Secret"):
        problems.append(f"Secret/{secret['metadata']['name']} is inlined")
    targets = {
        es["spec"]["target"]["name"]: {item["secretKey"] for item in es["spec"]["data"]}
        for es in by_kind(docs, "ExternalSecret")
    }
    for cm in by_kind(docs, "ConfigMap"):
        for key in cm.get("data", {}):
            if key in SECRET_SETTING_NAMES:
                problems.append(f"ConfigMap/{cm['metadata']['name']} holds {key}")
    for pod in pods(docs):
        for volume in pod.spec.get("volumes", []):
            name = volume.get("secret", {}).get("secretName")
            if name and name not in targets:
                problems.append(f"{pod.name}: Secret {name} has no ExternalSecret")
        for c in pod.containers:
            for env in c.get("env", []):
                if env["name"] in SECRET_SETTING_NAMES:
                    problems.append(f"{pod.name}: {env['name']} set in the environment")
                if env["name"].endswith("_FILE") and "valueFrom" in env:
                    problems.append(f"{pod.name}: {env['name']} not a path")
    return problems


def _peers_are(rule: Doc, allowed: list[Doc]) -> bool:
    return bool(rule.get("from")) and all(peer in allowed for peer in rule["from"])


def network_ingress(docs: list[Doc]) -> list[str]:
    problems: list[str] = []
    policies = by_kind(docs, "NetworkPolicy")
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not deny:
        problems.append("no default-deny policy for ingress and egress")
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    cloudflared = {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "cloudflared"}}}
    allowed = {"api": [cloudflared, prometheus], "worker": [prometheus]}
    for policy in policies:
        selected = _selected_components(policy, docs)
        for rule in policy["spec"].get("ingress", []):
            for component in selected:
                peers = allowed.get(component, [])
                if not _peers_are(rule, peers):
                    problems.append(f"{policy['metadata']['name']}: {component} ingress too wide")
                if not rule.get("ports"):
                    problems.append(f"{policy['metadata']['name']}: ingress on every port")
    return problems


def _selected_components(policy: Doc, docs: list[Doc]) -> set[str]:
    selector = policy["spec"]["podSelector"]
    components = {p.component for p in pods(docs)}
    if not selector:
        return components
    if "matchLabels" in selector:
        want = selector["matchLabels"].get("app.kubernetes.io/component")
        return {want} & components
    chosen: set[str] = set()
    for expr in selector.get("matchExpressions", []):
        if expr["key"] == "app.kubernetes.io/component" and expr["operator"] == "In":
            chosen |= set(expr["values"]) & components
    return chosen


def _public_block_ok(block: Doc) -> bool:
    net = ip_network(block["cidr"])
    excepted = [ip_network(e) for e in block.get("except", [])]
    return all(
        any(ip_network(r).subnet_of(e) for e in excepted if e.version == net.version)  # type: ignore[arg-type]
        for r in PRIVATE_RANGES
        if ip_network(r).version == net.version
    )


def network_egress(docs: list[Doc]) -> list[str]:
    """Egress: named ports only; public blocks minus private ranges; narrow datastore blocks."""
    problems: list[str] = []
    for policy in by_kind(docs, "NetworkPolicy"):
        name = policy["metadata"]["name"]
        for rule in policy["spec"].get("egress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if not rule.get("to") or not ports:
                problems.append(f"{name}: an egress rule open to every peer or port")
                continue
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                if block is None:
                    continue
                prefix = ip_network(block["cidr"]).prefixlen
                if prefix == 0:
                    if not _public_block_ok(block):
                        problems.append(
                            f"{name}: {block['cidr']} does not except every private range"
                        )
                elif not ports <= DATASTORE_PORTS or prefix < 16:
                    problems.append(f"{name}: {block['cidr']} is not a narrow datastore range")
    return problems


def egress_ports(docs: list[Doc], component: str) -> set[int]:
    ports: set[int] = set()
    for policy in by_kind(docs, "NetworkPolicy"):
        if component in _selected_components(policy, docs):
            for rule in policy["spec"].get("egress", []):
                ports |= {p["port"] for p in rule.get("ports", [])}
    return ports


def least_egress(docs: list[Doc]) -> list[str]:
    """Each workload reaches what it needs and nothing else (ports per component)."""
    expected = {
        "api": {53, 5432, 6379, 3310, 443},
        "worker": {53, 5432, 6379, 3310, 443, 587, 465},
        "migrate": {53, 5432},
        "backup": {53, 5432},
        "cloudflared": {53, 443, 7844, 8000},
    }
    problems: list[str] = []
    for component in {p.component for p in pods(docs)}:
        got = egress_ports(docs, component)
        if got != expected.get(component):
            problems.append(f"{component} egress ports {sorted(got)}")
    return problems


ALL_CHECKS = (
    pod_security,
    writable_paths,
    lifecycle,
    exposure,
    namespace,
    availability,
    secrets_referenced,
    network_ingress,
    network_egress,
    least_egress,
)


def problems(docs: list[Doc]) -> list[str]:
    return [problem for check in ALL_CHECKS for problem in check(docs)]
