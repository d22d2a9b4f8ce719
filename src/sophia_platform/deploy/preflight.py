"""Checks that must pass before anything is deployed; each failure is a refusal with a fix.

Preflight reads the cluster (Secrets, Nodes, Pods, RuntimeClasses, Helm records) and the spec,
and never changes anything. Secret values are read only to test them for presence and
placeholders and to hash them; they never leave this module.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from sophia_platform.config import is_placeholder
from sophia_platform.deploy import releases
from sophia_platform.deploy.target import Target
from sophia_platform.deploy.values import split_image
from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError
from sophia_platform.secrets.manifest import kube_secret_name, kube_secret_names
from sophia_platform.secrets.stamp import decoded_content_hash, template_stamp
from sophia_platform.spec import Spec

GPU_RESOURCE = "nvidia.com/gpu"
GPU_LABEL = "gpu-type"


@dataclass(frozen=True)
class Check:
    """One preflight check and its verdict."""

    name: str
    ok: bool
    detail: str


@dataclass
class Preflight:
    """All checks, plus the per-service secret hashes deploy puts into the chart values."""

    checks: list[Check] = field(default_factory=list)
    secret_hashes: dict[str, str] = field(default_factory=dict)
    pending_revision: int | None = None

    @property
    def ok(self) -> bool:
        """True when nothing refused."""
        return all(c.ok for c in self.checks)

    @property
    def refusals(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]


def _secret_locations(spec: Spec, service: str) -> list[tuple[str, str, str, bool]]:
    """(canonical name, kube Secret, key, required) of every secret a service consumes."""
    found = []
    for name in spec.services[service].secrets:
        entry = spec.secrets[name]
        secret = entry.kubernetes.secret or kube_secret_name(spec, service)
        found.append((name, secret, entry.kubernetes.key or name, entry.required))
    return found


def check_secrets(spec: Spec, api: Any, namespace: str) -> tuple[list[Check], dict[str, str]]:
    """Every required secret present and not a placeholder; returns checks and content hashes."""
    try:
        path = f"/api/v1/namespaces/{namespace}/secrets"
        listed = raw.get(api, "list secrets", path).items or []
    except ApiError as e:
        if e.status == 404:
            listed = []
        else:
            raise
    data = {s.metadata.name: (s.data.to_dict() if s.data else {}) for s in listed}
    secret_hashes = {name: decoded_content_hash(encoded) for name, encoded in data.items()}
    missing, placeholders = [], []
    hashes: dict[str, str] = {}
    for service in spec.services:
        for name, secret, key, required in _secret_locations(spec, service):
            encoded = data.get(secret, {}).get(key)
            if encoded is None:
                if required:
                    missing.append(f"{name} ({secret}/{key}, used by {service})")
                continue
            value = base64.b64decode(encoded).decode("utf-8", "replace")
            if required and is_placeholder(value):
                placeholders.append(f"{name} ({secret}/{key}, used by {service})")
        # The same stamp `secrets sync` puts on pod templates: a deploy right after a sync
        # renders the value already there and restarts nothing twice.
        hashes[service] = template_stamp(kube_secret_names(spec, service), secret_hashes)
    checks = [
        Check(
            "secrets present",
            not missing,
            "every required secret is in the cluster"
            if not missing
            else f"missing in {namespace}: {', '.join(sorted(set(missing)))}; "
            "run `sophia secrets sync`",
        ),
        Check(
            "no placeholder secrets",
            not placeholders,
            "no required secret holds a placeholder"
            if not placeholders
            else f"placeholder values: {', '.join(sorted(set(placeholders)))}; set real values",
        ),
    ]
    return checks, hashes


def check_images(spec: Spec, target: Target, image_tag: str | None) -> Check:
    """In production every image is pinned: no ``latest``, no missing tag."""
    if not target.production:
        return Check("images pinned", True, f"not enforced in {target.env}")
    unpinned = []
    for service in spec.services:
        _, tag = split_image(spec.image_ref(service, image_tag))
        if tag.split("@", 1)[0] in {"", "latest"} and "@" not in tag:
            unpinned.append(service)
    detail = (
        "every image has a pinned tag"
        if not unpinned
        else f"unpinned images (latest) in production: {', '.join(unpinned)}; pass --image-tag "
        "or set services.<name>.tag"
    )
    return Check("images pinned", not unpinned, detail)


def _quantity(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def check_gpus(spec: Spec, api: Any, target: Target) -> Check:
    """Every GPU pod fits on some node; all replicas fit in the GPUs not held by other releases."""
    wanted = {n: s for n, s in spec.services.items() if s.gpu > 0}
    if not wanted:
        return Check("GPU requests satisfiable", True, "no service requests GPUs")
    nodes = raw.get(api, "list nodes", "/api/v1/nodes").items or []
    free: dict[str, int] = {}
    node_type: dict[str, str | None] = {}
    for node in nodes:
        alloc = _quantity((node.status.allocatable or {}).get(GPU_RESOURCE, 0))
        if alloc and not node.spec.unschedulable:
            free[node.metadata.name] = alloc
            node_type[node.metadata.name] = (node.metadata.labels or {}).get(GPU_LABEL)
    active = "status.phase!=Succeeded,status.phase!=Failed"
    pods = raw.get(api, "list pods", "/api/v1/pods", fieldSelector=active).items or []
    for pod in pods:
        labels = pod.metadata.labels or {}
        ours = (
            pod.metadata.namespace == target.namespace
            and labels.get("app.kubernetes.io/instance") == target.release
        )
        if ours or pod.spec.node_name not in free:
            continue  # this release's own pods are replaced by the deploy
        for c in pod.spec.containers:
            limits = (c.resources.limits or {}) if c.resources else {}
            free[pod.spec.node_name] -= _quantity(limits.get(GPU_RESOURCE, 0))
    problems = []
    # Largest requests first: a greedy fit that mirrors how the scheduler fills nodes.
    for name, svc in sorted(wanted.items(), key=lambda kv: -kv[1].gpu):
        fits = [n for n in free if svc.gpu_type in (None, node_type[n])]
        biggest = max((free[n] for n in fits), default=0)
        if biggest < svc.gpu:
            what = f"{svc.gpu} x {svc.gpu_type or 'any'} GPU"
            problems.append(
                f"{name} needs {what} per pod; the largest free on a matching node is {biggest}"
            )
            continue
        for _ in range(svc.replicas):
            node = max(fits, key=lambda n: free[n])
            if free[node] < svc.gpu:
                problems.append(
                    f"{name}: {svc.replicas} replicas x {svc.gpu} GPU do not fit the nodes"
                )
                break
            free[node] -= svc.gpu
    detail = "every GPU pod can be scheduled" if not problems else "; ".join(problems)
    return Check("GPU requests satisfiable", not problems, detail)


def check_runtime_class(spec: Spec, api: Any, runtime_class: str | None) -> Check:
    """GPU pods name a RuntimeClass; the API server rejects pods whose class does not exist."""
    if not runtime_class or not any(s.gpu for s in spec.services.values()):
        return Check("GPU runtime class", True, "not needed")
    path = f"/apis/node.k8s.io/v1/runtimeclasses/{runtime_class}"
    try:
        raw.get(api, "read runtime class", path)
    except ApiError as e:
        if e.status == 404:
            return Check(
                "GPU runtime class",
                False,
                f"RuntimeClass {runtime_class!r} is missing; install the NVIDIA runtime "
                "(K3s creates "
                "it) or set global.gpu.runtimeClassName in environments.<env>.values",
            )
        raise
    return Check("GPU runtime class", True, f"RuntimeClass {runtime_class} exists")


def check_release(api: Any, target: Target, recover: bool) -> tuple[Check, int | None]:
    """Refuse a release stuck in pending-* (helm#8987) unless --recover clears it."""
    current = releases.latest(api, target.namespace, target.release)
    if current is None or not current.pending:
        return Check("release not stuck", True, "no operation pending"), None
    if recover:
        return Check(
            "release not stuck", True, f"revision {current.revision} {current.status}: will recover"
        ), current.revision
    return (
        Check(
            "release not stuck",
            False,
            f"release {target.release} is stuck in {current.status} "
            f"at revision {current.revision}; "
            "run `sophia deploy --recover`",
        ),
        current.revision,
    )


def run(
    spec: Spec,
    api: Any,
    target: Target,
    *,
    image_tag: str | None,
    runtime_class: str | None,
    recover: bool = False,
) -> Preflight:
    """Run every check against the cluster (reachability and context are checked by connecting)."""
    result = Preflight()
    result.checks.append(
        Check("kube context", True, f"{target.context} (namespace {target.namespace})")
    )
    secret_checks, result.secret_hashes = check_secrets(spec, api, target.namespace)
    result.checks += secret_checks
    result.checks.append(check_images(spec, target, image_tag))
    result.checks.append(check_gpus(spec, api, target))
    result.checks.append(check_runtime_class(spec, api, runtime_class))
    release_check, result.pending_revision = check_release(api, target, recover)
    result.checks.append(release_check)
    return result
