"""The admin kubeconfig of the local cluster (context ``sophia-local``), and merging it.

The cluster's own kubeconfig lives in its state directory (``sophia dev cluster kubeconfig``);
:func:`merge_into` and :func:`remove_from` put its context into the user's kubeconfig and take
it out again, the way kind and k3d do.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.devcluster.pki import Pki
from sophia_platform.errors import ExternalError, InputError

CONTEXT = "sophia-local"


def kubeconfig_document(server: str, pki: Pki) -> dict[str, object]:
    """Build a kubeconfig with the CA and admin credentials embedded (portable, self-contained)."""

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": f"{CONTEXT}-admin",
                "user": {
                    "client-certificate-data": b64(pki.admin_cert),
                    "client-key-data": b64(pki.admin_key),
                },
            }
        ],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": f"{CONTEXT}-admin", "namespace": "default"},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: Path, server: str, pki: Pki) -> Path:
    """Write the kubeconfig atomically with mode 0600 (it holds the admin key)."""
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(kubeconfig_document(server, pki), buf)
    write_text_atomic(path, buf.getvalue(), mode=0o600)
    return path


# -- the user's kubeconfig -------------------------------------------------------------------
# ``up`` merges the context into the user's kubeconfig as kind and k3d do, so `--context
# sophia-local` (the example spec's local context) works in every shell; ``down`` takes it out.

_SECTIONS = (("clusters", CONTEXT), ("users", f"{CONTEXT}-admin"), ("contexts", CONTEXT))
_LOCK_WAIT_S = 5.0


@dataclass(frozen=True)
class MergeResult:
    """What merging into (or removing from) the user's kubeconfig did."""

    path: Path
    created_file: bool = False
    replaced: bool = False  # an older sophia-local entry was overwritten
    current_context: str | None = None  # after the change
    switched: bool = False  # the current context became sophia-local
    removed: bool = False  # (unmerge) the entries were found and removed


def user_kubeconfig(environ: Mapping[str, str] | None = None) -> Path:
    """The file kubectl reads and writes: the first entry of $KUBECONFIG, else ~/.kube/config."""
    env = os.environ if environ is None else environ
    first = next((p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p), None)
    if first:
        return Path(first).expanduser()
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".kube" / "config"


def merge_into(path: Path, document: Mapping[str, Any], *, switch_context: bool) -> MergeResult:
    """Put the cluster, user and context of ``document`` into the kubeconfig at ``path``.

    Entries of the same names are replaced, everything else is kept as it was (comments too);
    the current context changes only with ``switch_context`` or when none is set. The file is
    written atomically with mode 0600 under kubectl's lock file (``<path>.lock``).
    """
    target = path.resolve() if path.is_symlink() else path
    with _kubeconfig_lock(target):
        created = not target.exists()
        data = _load(target) if not created else _empty()
        replaced = False
        for (section, name), entry in zip(
            _SECTIONS, (document[s][0] for s, _ in _SECTIONS), strict=True
        ):
            items = data.setdefault(section, [])
            if items is None:
                items = data[section] = []
            kept = [i for i in items if not (isinstance(i, dict) and i.get("name") == name)]
            replaced = replaced or len(kept) != len(items)
            items[:] = [*kept, entry]
        switched = False
        if switch_context or not data.get("current-context"):
            switched = data.get("current-context") != CONTEXT
            data["current-context"] = CONTEXT
        _write(target, data)
    return MergeResult(target, created, replaced, str(data["current-context"]), switched)


def remove_from(path: Path, *, server: str | None = None) -> MergeResult:
    """Remove the sophia-local cluster, user and context from ``path`` (if ``server`` matches).

    ``server`` guards against removing an entry another cluster wrote since: only a cluster
    entry pointing at that server is taken out. A current context of sophia-local is unset.
    """
    target = path.resolve() if path.is_symlink() else path
    if not target.exists():
        return MergeResult(target)
    with _kubeconfig_lock(target):
        data = _load(target)
        clusters = data.get("clusters") or []
        ours = next((c for c in clusters if isinstance(c, dict) and c.get("name") == CONTEXT), None)
        live_server = ((ours or {}).get("cluster") or {}).get("server")
        if ours is None or (server is not None and live_server != server):
            current = data.get("current-context")
            return MergeResult(target, current_context=str(current) if current else None)
        for section, name in _SECTIONS:
            items = data.get(section)
            if items:
                items[:] = [i for i in items if not (isinstance(i, dict) and i.get("name") == name)]
        if data.get("current-context") == CONTEXT:
            data["current-context"] = ""
        _write(target, data)
    current = data.get("current-context")
    return MergeResult(target, current_context=str(current) if current else None, removed=True)


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


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        data = _yaml().load(text) if text.strip() else _empty()
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise InputError(
            f"{path}: cannot read this kubeconfig ({type(exc).__name__}); left unchanged",
            hint="fix the file, or pass --no-merge and use `sophia dev cluster kubeconfig`",
        ) from exc
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: not a kubeconfig (the top level is not a mapping); left unchanged",
            hint="fix the file, or pass --no-merge and use `sophia dev cluster kubeconfig`",
        )
    return data


def _write(path: Path, data: Any) -> None:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    write_text_atomic(path, buf.getvalue(), mode=0o600, parents=True)


@contextlib.contextmanager
def _kubeconfig_lock(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` (created exclusively), the lock kubectl and client-go take."""
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
