"""Desired (the chart rendered from sophia.yaml) against live objects, secrets masked.

Both sides come from the API server: the live object, and the same object after a server-side
dry-run apply of the rendered manifest, so defaults do not show up as changes. Secret data and
secret-named env values are masked before any text is produced (helm-diff#128 leaks them).
"""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sophia_platform.deploy import helm, preflight, releases, source
from sophia_platform.deploy.source import release_source
from sophia_platform.deploy.target import Target, chart_dir, resolve
from sophia_platform.deploy.values import render_values, values_file
from sophia_platform.kube import raw
from sophia_platform.kube.apply import dry_run
from sophia_platform.kube.client import ApiError, connect
from sophia_platform.spec import Spec

MASK = "***"
_NOISE_META = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp")


@dataclass(frozen=True)
class ObjectDiff:
    """One object: create, update, delete or unchanged, with a masked unified diff."""

    kind: str
    name: str
    change: str
    diff: str = ""


@dataclass
class DiffResult:
    """Every object of the release."""

    env: str
    namespace: str
    objects: list[ObjectDiff]

    @property
    def changed(self) -> list[ObjectDiff]:
        """Objects that would change."""
        return [o for o in self.objects if o.change != "unchanged"]


def mask(obj: dict[str, Any], secret_names: set[str]) -> dict[str, Any]:
    """Replace every secret value in an object (Secret data, secret-named env values)."""
    if obj.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if isinstance(obj.get(key), dict):
                obj[key] = dict.fromkeys(obj[key], MASK)
    _mask_env(obj, secret_names)
    return obj


def _mask_env(node: Any, secret_names: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("name") in secret_names and "value" in node:
            node["value"] = MASK
        for value in node.values():
            _mask_env(value, secret_names)
    elif isinstance(node, list):
        for item in node:
            _mask_env(item, secret_names)


def normalise(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop fields the server owns (status, managedFields, versions)."""
    clean = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(clean.get("metadata") or {})
    for key in _NOISE_META:
        meta.pop(key, None)
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    clean["metadata"] = meta
    return clean


def _yaml(obj: dict[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    from ruamel.yaml import YAML

    buf = io.StringIO()
    YAML().dump(obj, buf)
    return buf.getvalue().splitlines(keepends=True)


def _unified(label: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    return "".join(
        difflib.unified_diff(_yaml(old), _yaml(new), f"live/{label}", f"desired/{label}")
    )


def _namespace_exists(api: Any, namespace: str) -> bool:
    try:
        raw.get(api, "read namespace", f"/api/v1/namespaces/{namespace}")
    except ApiError as e:
        if e.status == 404:
            return False
        raise
    return True


def compute(
    spec: Spec, env: str | None, *, image_tag: str | None = None, kubeconfig: Path | None = None
) -> DiffResult:
    """Render the desired release and compare it with what runs."""
    target = resolve(spec, env, kubeconfig=kubeconfig)
    api = connect(target.kubeconfig, target.context)
    _, hashes = preflight.check_secrets(spec, api, target.namespace)
    values = render_values(spec, target.env, image_tag=image_tag, secret_hashes=hashes)
    with values_file(values) as path:
        argv = helm.template(target.helm(), chart_dir(), path)
        rendered = helm.run(argv, timeout=120).stdout
    return compare(spec, target, api, rendered)


def compare(spec: Spec, target: Target, api: Any, rendered: str) -> DiffResult:
    """Compare a rendered manifest with what runs (server-side dry run, secrets masked)."""
    docs = releases.manifest_objects(rendered)
    secret_names = set(spec.secrets)
    if not _namespace_exists(api, target.namespace):
        # Nothing can be dry-run into a namespace that does not exist yet: all of it is new.
        created = [
            ObjectDiff(
                d["kind"],
                d["metadata"]["name"],
                "create",
                _unified(f"{d['kind']}/{d['metadata']['name']}", None, mask(d, secret_names)),
            )
            for d in docs
        ]
        return DiffResult(target.env, target.namespace, created)
    objects = []
    for result in dry_run(api, target.namespace, docs):
        label = f"{result.kind}/{result.name}"
        live = mask(normalise(result.live), secret_names) if result.live else None
        if result.error is not None:
            objects.append(ObjectDiff(result.kind, result.name, "invalid", result.error))
            continue
        desired = mask(normalise(result.desired or {}), secret_names)
        if live is None:
            objects.append(
                ObjectDiff(result.kind, result.name, "create", _unified(label, None, desired))
            )
        elif live == desired:
            objects.append(ObjectDiff(result.kind, result.name, "unchanged"))
        else:
            objects.append(
                ObjectDiff(result.kind, result.name, "update", _unified(label, live, desired))
            )
    wanted = {(d["kind"], d["metadata"]["name"]) for d in docs}
    current = source.current(release_source(target, api).history())
    if current is not None:
        for doc in releases.manifest_objects(current.manifest):
            key = (doc["kind"], doc["metadata"]["name"])
            if key not in wanted:
                objects.append(ObjectDiff(key[0], key[1], "delete"))
    return DiffResult(target.env, target.namespace, objects)
