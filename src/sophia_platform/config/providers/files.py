"""Layer 2: files mounted from Kubernetes Secrets, one file per key, as a pod sees them.

The kubelet mounts a Secret as a directory whose entries are symlinks into a hidden
``..data`` directory and updates it by swapping that symlink atomically. So a change shows up
as a new inode behind the same name: the provider re-stats the directory at most once per
``recheck_seconds`` (hot lookups just read a dict) and re-reads the files only when a
signature of names, inodes, sizes and mtimes changed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sophia_platform.config.keys import Key, parse_key
from sophia_platform.config.providers.base import LayerStatus

DEFAULT_SECRETS_DIR = Path("/var/run/secrets/sophia")
MAX_FILE_BYTES = 1024 * 1024  # a Kubernetes Secret cannot exceed 1 MiB either

_Signature = tuple[tuple[str, int, int, int, int], ...]


class FilesProvider:
    """Reads ``<dir>/OPENAI_API_KEY`` (or ``<dir>/openai_api_key``), re-reading on change."""

    name = "files"

    def __init__(
        self,
        directory: Path | None,
        *,
        explicit: bool = True,
        recheck_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dir = directory
        self._explicit = explicit
        self._recheck = recheck_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[str, str] = {}
        self._signature: _Signature | None = None
        self._next_check = float("-inf")
        self._scanned = False
        self._state: LayerStatus = LayerStatus(self.name, "loading", str(directory))

    def lookup(self, key: Key) -> str | None:
        """Return the content of the file named after ``key``."""
        if self._clock() >= self._next_check:
            self._recheck_directory()
        return self._values.get(key.name)

    def searched(self, key: Key) -> str:
        """Describe the lookup."""
        self.lookup(key)
        where = f"files {self._dir}/{{{key.name},{key.lower}}}"
        state = self._state
        return where if state.state == "ok" else f"{where} ({state.state}: {state.detail})"

    def status(self) -> LayerStatus:
        """Return the directory's state after an up-to-date check."""
        if self._clock() >= self._next_check:
            self._recheck_directory()
        return self._state

    def _recheck_directory(self) -> None:
        # One thread rechecks; the others keep using the current snapshot instead of waiting,
        # except before the first scan, when there is no snapshot to fall back on.
        if not self._lock.acquire(blocking=not self._scanned):
            return
        try:
            now = self._clock()
            if now < self._next_check:
                return
            self._next_check = now + self._recheck
            self._scan()
            self._scanned = True
        finally:
            self._lock.release()

    def _scan(self) -> None:
        directory = self._dir
        if directory is None or not directory.is_dir():
            self._values, self._signature = {}, None
            if directory is None or not self._explicit:
                detail = "no secrets directory (set SOPHIA_SECRETS_DIR)"
                self._state = LayerStatus(self.name, "not configured", detail)
            else:
                detail = f"{directory} is not a directory"
                self._state = LayerStatus(self.name, "failed", detail)
            return
        signature = _signature(directory)
        if signature == self._signature:
            return
        values, problems = _read_all(directory, [entry[0] for entry in signature])
        self._values, self._signature = values, signature
        detail = f"{len(values)} keys in {directory}"
        if problems:
            detail += "; skipped " + ", ".join(problems)
        self._state = LayerStatus(self.name, "ok", detail)


def _signature(directory: Path) -> _Signature:
    entries = []
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if entry.name.startswith("."):
                    continue  # ..data, ..2026_11_25_...: the kubelet's bookkeeping
                try:
                    st = entry.stat()  # follows the symlink into the current ..data
                except OSError:
                    continue
                entries.append((entry.name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    except OSError:
        return ()
    return tuple(sorted(entries))


def _read_all(directory: Path, names: list[str]) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    problems: list[str] = []
    # Upper-case names go first so OPENAI_API_KEY wins over openai_api_key when both exist.
    for name in sorted(names, key=lambda n: (n != n.upper(), n)):
        path = directory / name
        try:
            key = parse_key(name)
        except ValueError:
            continue
        if key.path is not None or not path.is_file():
            continue
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                problems.append(f"{name} (larger than 1 MiB)")
                continue
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{name} (not UTF-8)")
            continue
        except OSError as exc:
            problems.append(f"{name} ({exc.strerror or 'unreadable'})")
            continue
        # `kubectl create secret --from-file` keeps the newline an editor added; no real
        # token ends in one.
        values.setdefault(key.name, text.rstrip("\r\n"))
    return values, problems
