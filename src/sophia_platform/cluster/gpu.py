"""GPU support: the ``nvidia`` RuntimeClass, the NVIDIA device plugin, and a smoke Job per node.

The manifests are package data (``data/manifests/``); what depends on the spec is filled in
here: the tolerations of the GPU nodes' taints, the smoke image, the node each smoke Job is
pinned to. Each applied object carries a hash of what was applied, so a converged run sees
"unchanged" without writing anything.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from sophia_platform import resources
from sophia_platform.cluster.inventory import ClusterNode
from sophia_platform.kube.client import ApiError

HASH_ANNOTATION = "sophia.dev/applied-hash"
NAMESPACE = "kube-system"
DEVICE_PLUGIN = "nvidia-device-plugin-daemonset"
RUNTIME_CLASS = "nvidia"
SMOKE_PREFIX = "sophia-gpu-smoke-"


@functools.cache
def _parsed(name: str) -> str:
    return json.dumps(YAML(typ="safe", pure=True).load(resources.manifest(name)))


def _manifest(name: str) -> dict[str, Any]:
    """A fresh copy of a shipped manifest (parsed once per process)."""
    data: dict[str, Any] = json.loads(_parsed(name))
    return data


def _stamp(doc: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
    doc.setdefault("metadata", {}).setdefault("annotations", {})[HASH_ANNOTATION] = digest
    return doc


def _tolerations(nodes: list[ClusterNode]) -> list[dict[str, Any]]:
    seen = {("nvidia.com/gpu", "NoSchedule")}
    out: list[dict[str, Any]] = []
    for node in nodes:
        for taint in node.taints:
            if (taint.key, taint.effect) not in seen:
                seen.add((taint.key, taint.effect))
                out.append({"key": taint.key, "operator": "Exists", "effect": taint.effect})
    return out


def runtime_class() -> dict[str, Any]:
    """The nvidia RuntimeClass (handler nvidia, as K3s registers it)."""
    return _stamp(_manifest("nvidia-runtimeclass.yaml"))


def device_plugin(gpu_nodes: list[ClusterNode]) -> dict[str, Any]:
    """The device plugin DaemonSet, tolerating every GPU node's taints."""
    doc = _manifest("nvidia-device-plugin.yaml")
    doc["spec"]["template"]["spec"]["tolerations"] += _tolerations(gpu_nodes)
    return _stamp(doc)


def smoke_job(node: ClusterNode, image: str) -> dict[str, Any]:
    """The smoke Job of one GPU node: nvidia-smi with one GPU, pinned to the node."""
    doc = copy.deepcopy(_manifest("gpu-smoke-job.yaml"))
    doc["metadata"]["name"] = f"{SMOKE_PREFIX}{node.name}"
    pod = doc["spec"]["template"]["spec"]
    pod["nodeName"] = node.name
    pod["tolerations"] = [
        {"key": t.key, "operator": "Exists", "effect": t.effect} for t in node.taints
    ]
    pod["containers"][0]["image"] = image
    return _stamp(doc)


def applied_hash(obj: Any) -> str | None:
    """The hash annotation of a live object (None if absent)."""
    notes = obj.metadata.annotations if obj is not None else None
    return notes.get(HASH_ANNOTATION) if notes else None


@dataclass(frozen=True)
class Applied:
    """One object and whether it had to be written."""

    kind: str
    name: str
    changed: bool


def _read(api: Any, path: str) -> Any:
    from sophia_platform.kube.raw import get

    try:
        return get(api, f"read {path}", path)
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def _path(doc: dict[str, Any]) -> str:
    kind, name = doc["kind"], doc["metadata"]["name"]
    ns = doc["metadata"].get("namespace")
    return {
        "RuntimeClass": f"/apis/node.k8s.io/v1/runtimeclasses/{name}",
        "DaemonSet": f"/apis/apps/v1/namespaces/{ns}/daemonsets/{name}",
        "Job": f"/apis/batch/v1/namespaces/{ns}/jobs/{name}",
    }[kind]


def stale(live: Any, doc: dict[str, Any]) -> bool:
    """True if ``live`` (None: missing) was not applied from ``doc``."""
    return live is None or applied_hash(live) != doc["metadata"]["annotations"][HASH_ANNOTATION]


def needs_apply(api: Any, doc: dict[str, Any]) -> bool:
    """True if the live object is missing or was applied from something else."""
    return stale(_read(api, _path(doc)), doc)


def apply(api: Any, doc: dict[str, Any], *, dry_run: bool = False) -> Applied:
    """Server-side apply ``doc`` unless the live object carries the same hash."""
    kind, name = doc["kind"], doc["metadata"]["name"]
    if not needs_apply(api, doc):
        return Applied(kind, name, False)
    if dry_run:
        return Applied(kind, name, True)
    if kind == "Job":
        delete_job(api, doc)  # a Job's template is immutable: a new smoke run is a new Job
    from sophia_platform.kube import raw

    raw.server_side_apply(api, f"apply {kind}/{name}", _path(doc), doc)
    return Applied(kind, name, True)


def delete_job(api: Any, doc: dict[str, Any]) -> None:
    """Delete a Job and its pods; wait (up to 30 s) until it is gone."""
    from sophia_platform.kube import raw

    name = doc["metadata"]["name"]
    try:
        raw.delete(
            api,
            f"delete job {name}",
            _path(doc),
            propagationPolicy="Foreground",
            gracePeriodSeconds="0",
        )
    except ApiError as e:
        if e.status != 404:
            raise
        return
    deadline = time.monotonic() + 30
    while _read(api, _path(doc)) is not None and time.monotonic() < deadline:
        time.sleep(0.2)


@dataclass(frozen=True)
class SmokeResult:
    """The smoke Job of one node: passed, failed or still running (and why)."""

    node: str
    state: str  # passed | failed | running | missing
    detail: str = ""


def smoke_jobs(api: Any) -> dict[str, Any]:
    """Every smoke Job by the node it runs on, in one list call."""
    from sophia_platform.kube.raw import get

    found = get(api, "list smoke jobs", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs")
    return {
        job.metadata.name[len(SMOKE_PREFIX) :]: job
        for job in found.items or []
        if job.metadata.name.startswith(SMOKE_PREFIX)
    }


def smoke_state(node: str, job: Any) -> SmokeResult:
    """A live smoke Job (None: missing) read from its conditions (Complete: nvidia-smi ran)."""
    if job is None:
        return SmokeResult(node, "missing")
    for cond in job.status.conditions or [] if job.status else []:
        if cond.status != "True":
            continue
        if cond.type == "Complete":
            return SmokeResult(node, "passed", "nvidia-smi exited 0")
        if cond.type == "Failed":
            return SmokeResult(node, "failed", cond.message or cond.reason or "failed")
    return SmokeResult(node, "running")


@dataclass(frozen=True)
class PluginHealth:
    """The device plugin DaemonSet: desired vs ready pods."""

    present: bool
    desired: int
    ready: int

    @property
    def healthy(self) -> bool:
        """Present and every scheduled pod ready."""
        return self.present and self.desired > 0 and self.ready == self.desired


def plugin_health(api: Any) -> PluginHealth:
    """Desired and ready pods of the device plugin DaemonSet."""
    ds = _read(api, f"/apis/apps/v1/namespaces/{NAMESPACE}/daemonsets/{DEVICE_PLUGIN}")
    if ds is None or ds.status is None:
        return PluginHealth(ds is not None, 0, 0)
    return PluginHealth(
        True, int(ds.status.desired_number_scheduled or 0), int(ds.status.number_ready or 0)
    )


def runtime_class_present(api: Any) -> bool:
    """The nvidia RuntimeClass exists with handler nvidia."""
    rc = _read(api, f"/apis/node.k8s.io/v1/runtimeclasses/{RUNTIME_CLASS}")
    return rc is not None and rc.handler == RUNTIME_CLASS
