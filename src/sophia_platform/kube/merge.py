"""Merge one cluster's kubeconfig into the user's under a chosen context name, and take it out.

The one helper for every command that hands the user a cluster (``sophia cluster up``,
``sophia dev cluster up``; ``down`` takes it out again), the way kind and k3d do: the source's
current context, its cluster and its user are copied in as ``NAME`` (context and cluster) and
``NAME-admin`` (user), replacing entries of those names and leaving every other entry as it
was, comments and key order included. The file is written atomically, mode 0600 (it holds
credentials), under kubectl's lock file (``<path>.lock``); a symlinked kubeconfig is written
through to its target. ``current-context`` changes only when asked or when none is set.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.errors import ExternalError, InputError

_LOCK_WAIT_S = 5.0
_BROKEN_HINT = "fix the file, or point $KUBECONFIG at another one"


@dataclass(frozen=True)
class MergeResult:
    """What merging into (or removing from) a kubeconfig did (or, dry run, would do)."""

    path: Path
    changed: bool = False  # the file was (or would be) rewritten
    created_file: bool = False
    replaced: bool = False  # entries of these names were there (and are now up to date)
    current_context: str | None = None  # after the change
    switched: bool = False  # the current context became the merged one
    removed: bool = False  # (remove_from) the entries were found and removed


def user_kubeconfig(environ: Mapping[str, str] | None = None) -> Path:
    """The file kubectl reads and writes: the first entry of $KUBECONFIG, else ~/.kube/config."""
    env = os.environ if environ is None else environ
    first = next((p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p), None)
    if first:
        return Path(first).expanduser()
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".kube" / "config"


def load(text: str, what: str) -> dict[str, Any]:
    """Parse a kubeconfig's text (plain dicts); InputError when it is not one."""
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as e:
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


def _names(context: str) -> dict[str, str]:
    return {"clusters": context, "users": f"{context}-admin", "contexts": context}


def _named(items: Any, name: str) -> Any:
    return next((i for i in items or [] if isinstance(i, dict) and i.get("name") == name), None)


def entries(source: Mapping[str, Any], context: str) -> dict[str, dict[str, Any]]:
    """The cluster, user and context entries of ``source``'s current context, renamed."""
    current = source.get("current-context") or (source.get("contexts") or [{}])[0].get("name")
    ctx = _named(source.get("contexts"), str(current))
    if ctx is None:
        raise InputError("the kubeconfig to merge has no current context")
    cluster = _named(source.get("clusters"), ctx["context"]["cluster"])
    user = _named(source.get("users"), ctx["context"]["user"])
    if cluster is None or user is None:
        raise InputError("the kubeconfig to merge names a missing cluster or user")
    names = _names(context)
    return {
        "clusters": {"name": names["clusters"], "cluster": _plain(cluster["cluster"])},
        "users": {"name": names["users"], "user": _plain(user["user"])},
        "contexts": {
            "name": context,
            "context": {
                **_plain(ctx["context"]),
                "cluster": names["clusters"],
                "user": names["users"],
            },
        },
    }


def merge_into(
    path: Path,
    source: Mapping[str, Any],
    context: str,
    *,
    switch_context: bool = False,
    dry_run: bool = False,
) -> MergeResult:
    """Put ``source``'s current context into the kubeconfig at ``path`` as ``context``.

    An unchanged file is not rewritten (``changed`` False); ``dry_run`` only says whether it
    would be.
    """
    target = path.resolve() if path.is_symlink() else path
    wanted = entries(source, context)
    with _lock(target, dry_run):
        created = not target.exists()
        data = _empty() if created else _read(target)
        changed, replaced = created, False
        for section, entry in wanted.items():
            items = data.get(section)
            if items is None:
                items = data[section] = []
            old = _named(items, entry["name"])
            replaced = replaced or old is not None
            if old is not None and _plain(old) == entry:
                continue
            changed = True
            items[:] = [i for i in items if i is not old] + [entry]
        before = data.get("current-context")
        switched = False
        if switch_context or not before:
            switched = before != context
            changed = changed or switched
            data["current-context"] = context
        if changed and not dry_run:
            _write(target, data)
    current = data.get("current-context")
    return MergeResult(
        target, changed, created, replaced, str(current) if current else None, switched
    )


def remove_from(path: Path, context: str, *, server: str | None = None) -> MergeResult:
    """Remove the cluster, user and context entries named for ``context`` from ``path``.

    ``server`` guards against removing an entry another cluster wrote since: only a cluster
    entry pointing at that server is taken out. A current context of ``context`` is unset.
    """
    target = path.resolve() if path.is_symlink() else path
    if not target.exists():
        return MergeResult(target)
    names = _names(context)
    with _lock(target, False):
        data = _read(target)
        ours = _named(data.get("clusters"), names["clusters"])
        live_server = ((ours or {}).get("cluster") or {}).get("server")
        if ours is None or (server is not None and live_server != server):
            current = data.get("current-context")
            return MergeResult(target, current_context=str(current) if current else None)
        for section, name in names.items():
            items = data.get(section)
            if items:
                items[:] = [i for i in items if not (isinstance(i, dict) and i.get("name") == name)]
        if data.get("current-context") == context:
            data["current-context"] = ""
        _write(target, data)
    current = data.get("current-context")
    return MergeResult(
        target, changed=True, current_context=str(current) if current else None, removed=True
    )


def _plain(value: Any) -> Any:
    """Round-trip YAML nodes as plain dicts and lists (for comparing)."""
    return json.loads(json.dumps(value))


def _empty() -> Any:
    data = CommentedMap()
    for key, value in (
        ("apiVersion", "v1"),
        ("kind", "Config"),
        ("clusters", []),
        ("users", []),
        ("contexts", []),
        ("current-context", ""),
        ("preferences", {}),
    ):
        data[key] = value
    return data


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: the user's comments and key order survive
    yaml.preserve_quotes = True
    return yaml


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        data = _yaml().load(text) if text.strip() else _empty()
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise InputError(
            f"{path}: cannot read this kubeconfig ({type(exc).__name__}); left unchanged",
            hint=_BROKEN_HINT,
        ) from exc
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: not a kubeconfig (the top level is not a mapping); left unchanged",
            hint=_BROKEN_HINT,
        )
    return data


def _write(path: Path, data: Any) -> None:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text_atomic(path, buf.getvalue(), mode=0o600, parents=True)


@contextlib.contextmanager
def _lock(path: Path, dry_run: bool) -> Iterator[None]:
    """Hold ``<path>.lock`` (created exclusively), the lock kubectl and client-go take."""
    if dry_run:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = path.with_name(path.name + ".lock")
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise ExternalError(
                    f"{lock} exists: another program is writing {path}",
                    hint=f"if none is, remove {lock} and run again",
                ) from None
            time.sleep(0.1)
    try:
        yield
    finally:
        os.close(fd)
        lock.unlink(missing_ok=True)
