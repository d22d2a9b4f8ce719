"""Replace a file's content atomically: readers see the old file or the new one, never half.

Every module that writes a file it must not leave torn (keys, kubeconfig, secret store,
journals, plans, baselines) writes through :func:`write_atomic`. The temp file sits next to the
target as ``.<name>.<random>.tmp`` (cleanup's undo removes such leftovers by that prefix), gets
its final mode *before* any byte is written (so a secret is never briefly world-readable), is
fsynced, then renamed over the target. On any failure the temp file is removed and the target
keeps its old content.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DEFAULT_MODE = 0o644


def write_atomic(
    path: Path, data: bytes, *, mode: int | None = None, parents: bool = False
) -> None:
    """Replace ``path`` with ``data``; ``mode`` None keeps the file's mode (new file: 0644)."""
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = path.stat().st_mode & 0o7777 if path.exists() else DEFAULT_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(
    path: Path, text: str, *, mode: int | None = None, parents: bool = False
) -> None:
    """:func:`write_atomic` for text, encoded as UTF-8."""
    write_atomic(path, text.encode("utf-8"), mode=mode, parents=parents)


__all__ = ["DEFAULT_MODE", "write_atomic", "write_text_atomic"]
