"""Chart values generated from ``sophia.yaml``: one block per service, never hand-edited.

The values carry no secret value: only Secret names, keys and a content hash (so a changed
secret rolls the pods through a checksum annotation).
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.errors import UsageError
from sophia_platform.secrets.manifest import kube_secret_name
from sophia_platform.secrets.stamp import NO_SECRETS
from sophia_platform.spec import Spec

_VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Where well-known images keep their data; anything else gets /data.
_DATA_PATHS = {"postgres": "/var/lib/postgresql/data", "redis": "/data", "mysql": "/var/lib/mysql"}


def split_image(ref: str) -> tuple[str, str]:
    """Split ``registry/name:tag`` (or ``name@sha256:...``) into repository and tag."""
    if "@" in ref:
        name, digest = ref.split("@", 1)
        repo, tag = split_image(name) if ":" in name.rsplit("/", 1)[-1] else (name, "")
        return repo, f"{tag}@{digest}" if tag else f"latest@{digest}"
    head, _, last = ref.rpartition("/")
    if ":" in last:
        name, tag = last.split(":", 1)
        return (f"{head}/{name}" if head else name), tag
    return ref, "latest"


def _data_path(image: str) -> str:
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    return next((path for key, path in _DATA_PATHS.items() if key in name), "/data")


def _resolve(value: str, config: Mapping[str, str]) -> str:
    """Replace ``${NAME}`` with the spec's non-secret config value when it has one."""
    return _VAR_REF.sub(lambda m: config.get(m.group(1), m.group(0)), value)


def _secret_refs(spec: Spec, name: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Keys of the service's own Secret, and references into shared Secrets."""
    own: list[str] = []
    shared: list[dict[str, Any]] = []
    for secret in spec.services[name].secrets:
        entry = spec.secrets[secret]
        key = entry.kubernetes.key or secret
        if entry.kubernetes.secret:
            ref: dict[str, Any] = {"name": entry.kubernetes.secret, "key": key}
            if not entry.required:
                ref["optional"] = True
            shared.append(ref)
        else:
            own.append(key)
    return own, shared


def _resources(spec: Spec, name: str) -> dict[str, dict[str, str]]:
    res = spec.services[name].resources
    requests = {k: v for k, v in (("cpu", res.cpu), ("memory", res.memory)) if v}
    limits = {k: v for k, v in (("cpu", res.cpu_limit), ("memory", res.memory_limit)) if v}
    return {k: v for k, v in (("requests", requests), ("limits", limits)) if v}


def service_values(
    spec: Spec, name: str, *, image_tag: str | None = None, secret_hash: str = ""
) -> dict[str, Any]:
    """Build the values block of one service."""
    svc = spec.services[name]
    repository, tag = split_image(spec.image_ref(name, image_tag))
    own, shared = _secret_refs(spec, name)
    dependents = sorted(n for n, other in spec.services.items() if name in other.depends_on)
    storage = None
    if svc.storage:
        storage = {"size": svc.storage, "mountPath": _data_path(svc.image)}
    secret: dict[str, Any] | None = None
    if own:
        secret = {"name": kube_secret_name(spec, name), "keys": own}
        # Only optional secrets: the Secret may not exist at all, and pods must still start.
        if not any(
            spec.secrets[s].required
            for s in svc.secrets
            if spec.secrets[s].kubernetes.secret is None
        ):
            secret["optional"] = True
    ingress = None
    if svc.ingress is not None:
        if svc.port is None:
            raise UsageError(
                f"service {name!r} has an ingress but no port; add services.{name}.port"
            )
        ingress = {"host": svc.ingress.host, "path": svc.ingress.path, "tls": svc.ingress.tls}
    return {
        "kind": svc.kind,
        "secretsHash": secret_hash or NO_SECRETS,
        "image": {"repository": repository, "tag": tag},
        "replicas": svc.replicas,
        "port": svc.port,
        "ports": dict(svc.ports),
        "health": svc.health,
        "resources": _resources(spec, name),
        "gpu": {"count": svc.gpu, "type": svc.gpu_type},
        "storage": storage,
        "env": {k: _resolve(v, spec.config) for k, v in svc.env.items()},
        "secret": secret,
        "sharedSecrets": shared,
        "dependsOn": list(svc.depends_on),
        "allowFrom": dependents,
        "ingress": ingress,
        "autoscaling": {"enabled": False},
        "command": svc.command,
        "args": svc.args,
    }


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base`` (mappings recursively, anything else replaced)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def render_values(
    spec: Spec,
    env: str,
    *,
    image_tag: str | None = None,
    secret_hashes: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """All chart values of an environment: generated blocks, then the environment's overrides."""
    if env not in spec.environments:
        known = ", ".join(spec.environments)
        raise UsageError(f"unknown environment {env!r}; sophia.yaml defines: {known}")
    hashes = secret_hashes or {}
    values: dict[str, Any] = {
        "global": {"project": spec.project, "environment": env},
        "services": {
            name: service_values(spec, name, image_tag=image_tag, secret_hash=hashes.get(name, ""))
            for name in spec.services
        },
    }
    env_values = dict(spec.environments[env].values)
    # A shorthand for small environments: every service gets this many replicas.
    replicas = env_values.pop("replicasOverride", None)
    if replicas is not None:
        for block in values["services"].values():
            block["replicas"] = int(replicas)
    values = deep_merge(values, env_values)
    return deep_merge(values, overrides or {})


@contextmanager
def values_file(values: Mapping[str, Any]) -> Iterator[Path]:
    """Write values to a private temporary file for helm; removed afterwards."""
    # Values hold no secret value, but they name Secrets: keep the file private anyway.
    with tempfile.TemporaryDirectory(prefix="sophia-values-") as tmp:
        path = Path(tmp) / "values.json"
        write_text_atomic(path, json.dumps(values), mode=0o600)
        yield path
