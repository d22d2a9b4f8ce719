"""Merge one cluster's kubeconfig into the user's, under a chosen context name (the one helper).

The one helper for every command that hands the user a cluster (``sophia cluster up``, the
local control plane): the source's current context, its cluster and its user are copied in
under ``context`` (cluster and user entries are named after it too), replacing entries of
that name and leaving every other entry alone. The file is written atomically, mode 0600 (it
holds credentials). ``current-context`` is only set when the file had none.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ruamel.yaml import YAML

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.errors import InputError


def user_kubeconfig(environ: dict[str, str] | None = None) -> Path:
    """The file to merge into: the first entry of $KUBECONFIG, else ~/.kube/config."""
    env = os.environ if environ is None else environ
    first = next((p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p), None)
    return Path(first) if first else Path.home() / ".kube" / "config"


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    return yaml


def load(text: str, what: str) -> dict[str, Any]:
    """Parse a kubeconfig; InputError when it is not one."""
    try:
        data = _yaml().load(text)
    except Exception as e:
        raise InputError(f"{what} is not valid YAML: {type(e).__name__}") from e
    if data is None:
        return {"apiVersion": "v1", "kind": "Config"}
    if not isinstance(data, dict):
        raise InputError(f"{what} is not a kubeconfig (not a mapping)")
    return data


def with_server_host(server: str, host: str) -> str:
    """``server`` with its host replaced by ``host``, the port kept.

    K3s writes ``https://127.0.0.1:6443`` into k3s.yaml; the user needs the server's address.
    """
    parts = urlsplit(server)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _named(items: list[dict[str, Any]] | None, name: str) -> dict[str, Any] | None:
    return next((i for i in items or [] if i.get("name") == name), None)


def merged(target: dict[str, Any], source: dict[str, Any], context: str) -> dict[str, Any]:
    """``target`` with ``source``'s current context copied in as ``context``."""
    current = source.get("current-context") or (source.get("contexts") or [{}])[0].get("name")
    ctx = _named(source.get("contexts"), str(current))
    if ctx is None:
        raise InputError("the fetched kubeconfig has no current context")
    cluster = _named(source.get("clusters"), ctx["context"]["cluster"])
    user = _named(source.get("users"), ctx["context"]["user"])
    if cluster is None or user is None:
        raise InputError("the fetched kubeconfig's context names a missing cluster or user")
    out = dict(target)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Config")
    entries = {
        "clusters": {"name": context, "cluster": cluster["cluster"]},
        "users": {"name": context, "user": user["user"]},
        "contexts": {
            "name": context,
            "context": {
                k: v for k, v in {**ctx["context"], "cluster": context, "user": context}.items()
            },
        },
    }
    for section, entry in entries.items():
        kept = [i for i in out.get(section) or [] if i.get("name") != context]
        out[section] = [*kept, entry]
    if not out.get("current-context"):
        out["current-context"] = context
    return out


def merge_into(path: Path, source: dict[str, Any], context: str) -> bool:
    """Merge ``source`` into the kubeconfig at ``path`` as ``context``; True if it changed."""
    old_text = path.read_text(encoding="utf-8") if path.is_file() else ""
    old = load(old_text, str(path)) if old_text else {}
    new = merged(old, source, context)
    if old and new == old:
        return False
    buf = io.StringIO()
    _yaml().dump(new, buf)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text_atomic(path, buf.getvalue(), mode=0o600)
    return True
