"""Helm's storage read straight from the cluster (no helm process), for HelmReleaseSource.

Helm 3 stores each revision as a Secret ``sh.helm.release.v1.<release>.v<N>`` labelled
``owner=helm,name=<release>,status=<status>,version=<N>``; its ``release`` key is base64 of
gzipped JSON. Reading it is how ``status`` stays well under half a second. Writes always go
through the helm CLI.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Collection
from typing import Any

from sophia_platform.deploy.revision import PENDING, Revision
from sophia_platform.kube import raw

_DOCUMENT_BREAK = re.compile(r"^---[ \t]*$", re.MULTILINE)

__all__ = ["PENDING", "Revision", "decode", "deployed", "encode", "latest", "revisions"]


def decode(blob: str) -> dict[str, Any]:
    """Decode the ``release`` field of a Helm storage Secret (as returned by the API, base64)."""
    raw = base64.b64decode(base64.b64decode(blob))
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    data: dict[str, Any] = json.loads(raw)
    return data


def _revision(data: dict[str, Any]) -> Revision:
    info = data.get("info") or {}
    meta = (data.get("chart") or {}).get("metadata") or {}
    return Revision(
        revision=int(data.get("version", 0)),
        status=str(info.get("status", "unknown")),
        updated=str(info.get("last_deployed") or info.get("first_deployed") or ""),
        description=str(info.get("description", "")),
        chart=f"{meta.get('name', '?')}-{meta.get('version', '?')}",
        manifest=str(data.get("manifest", "")),
        values=dict(data.get("config") or {}),
    )


def revisions(
    api: Any, namespace: str, release: str, *, status: str | None = None
) -> list[Revision]:
    """Every stored revision of ``release`` (optionally only those in ``status``), oldest first."""
    selector = f"owner=helm,name={release}" + (f",status={status}" if status else "")
    path = f"/api/v1/namespaces/{namespace}/secrets"
    secrets = raw.get(api, "read helm releases", path, labelSelector=selector).items or []
    found = [
        _revision(decode(s.data["release"])) for s in secrets if s.data and "release" in s.data
    ]
    return sorted(found, key=lambda r: r.revision)


def latest(api: Any, namespace: str, release: str) -> Revision | None:
    """Return the newest revision, whatever its status (None: never installed)."""
    found = revisions(api, namespace, release)
    return found[-1] if found else None


def deployed(api: Any, namespace: str, release: str) -> Revision | None:
    """Return the revision helm considers live (status ``deployed``)."""
    found = revisions(api, namespace, release, status="deployed")
    return found[-1] if found else None


def encode(data: dict[str, Any]) -> str:
    """Encode a release the way Helm stores it (the inverse of :func:`decode`)."""
    blob = base64.b64encode(gzip.compress(json.dumps(data).encode()))
    return base64.b64encode(blob).decode()


def mark_failed(api: Any, namespace: str, release: str, revision: int, reason: str) -> None:
    """Mark a revision stuck in pending-* as failed, so helm accepts the next operation.

    This is the documented manual fix for helm#8987 (relabel the storage Secret), done for
    both the label helm lists by and the status inside the record.
    """
    path = f"/api/v1/namespaces/{namespace}/secrets/sh.helm.release.v1.{release}.v{revision}"
    secret = raw.get(api, "read helm release", path).to_dict()
    data = decode(secret["data"]["release"])
    data.setdefault("info", {})["status"] = "failed"
    data["info"]["description"] = reason
    secret["data"]["release"] = encode(data)
    secret["metadata"].setdefault("labels", {})["status"] = "failed"
    # resourceVersion rides along: a concurrent change makes this a 409, not a lost update.
    raw.replace(api, "mark helm release failed", path, secret)


def manifest_objects(manifest: str, kinds: Collection[str] | None = None) -> list[dict[str, Any]]:
    """The objects of a multi-document manifest (libyaml when available: status stays fast).

    With ``kinds``, only documents whose top-level ``kind:`` is one of them are parsed: the
    release of 15 services is ~50 objects, and ``status`` reads its few workloads.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if kinds is not None:
        wanted = re.compile(rf"^kind:\s*({'|'.join(map(re.escape, kinds))})\s*$", re.MULTILINE)
        docs = _DOCUMENT_BREAK.split(manifest)
        manifest = "\n---\n".join(d for d in docs if wanted.search(d))
    return [
        d for d in yaml.load_all(manifest, Loader=loader) if isinstance(d, dict) and d.get("kind")
    ]
