"""Keep every cleanup write inside the repository, symlinks resolved."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from sophia_platform.errors import CheckFailed


def inside(root: Path, rel: str) -> Path:
    """The absolute path of repo-relative ``rel``; refuses escapes, symlinks and ``.git``.

    ``root`` must already be resolved. Every existing ancestor is resolved, so a symlinked
    folder that points outside the repository is caught, and the file itself must not be a
    symlink (a write would follow it).
    """
    pure = PurePosixPath(rel)
    if pure.is_absolute() or not rel or ".." in pure.parts or "\\" in rel:
        raise CheckFailed(f"refusing path {rel!r}: not a plain path inside the repository")
    if pure.parts[0] == ".git":
        raise CheckFailed(f"refusing path {rel!r}: inside .git")
    target = root.joinpath(*pure.parts)
    parent = target.parent.resolve()
    if parent != root and root not in parent.parents:
        raise CheckFailed(f"refusing path {rel!r}: it resolves outside the repository")
    if target.is_symlink():
        link = os.path.realpath(target)
        raise CheckFailed(f"refusing path {rel!r}: it is a symlink (to {link}); fix it by hand")
    return target
