"""The git facts and index edits the cleanup needs, run through :mod:`sophia_platform.git`."""

from __future__ import annotations

import os
from pathlib import Path

from sophia_platform import git
from sophia_platform.errors import InputError

IndexEntry = tuple[str, str]  # (mode like "100644", blob id)


def repo_root(path: Path) -> Path:
    """The top level of the git work tree holding ``path``; cleanup needs git for history."""
    top = git.toplevel(path.resolve())
    if top is None:
        raise InputError(f"{path} is not inside a git work tree; cleanup needs git (git init)")
    return top.resolve()


def dirty_paths(root: Path) -> list[str]:
    """Paths with uncommitted changes or untracked (not ignored) files."""
    out = git.run(["status", "--porcelain=v1", "-z", "--untracked-files=all"], root).stdout
    return [os.fsdecode(entry[3:]) for entry in out.split(b"\0") if len(entry) > 3]


def status_text(root: Path) -> str:
    """``git status --porcelain`` output (tests compare it before and after)."""
    return git.run(["status", "--porcelain=v1", "--untracked-files=all"], root).stdout.decode()


def store_blobs(root: Path, paths: list[str]) -> list[str]:
    """Write the files into the object store (``git hash-object -w``) and return blob ids."""
    if not paths:
        return []
    out = git.run(["hash-object", "-w", "--no-filters", "--", *paths], root).stdout
    return out.decode().split()


def read_blob(root: Path, blob: str) -> bytes:
    """The content of a blob from the object store."""
    return git.run(["cat-file", "blob", blob], root).stdout


def index_entries(root: Path, paths: list[str]) -> dict[str, IndexEntry]:
    """Stage-0 index entries of ``paths`` (absent paths are missing from the result)."""
    if not paths:
        return {}
    out = git.run(["ls-files", "-s", "-z", "--", *paths], root).stdout
    entries: dict[str, IndexEntry] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, blob, stage = meta.decode().split()
        if stage == "0":
            entries[os.fsdecode(name)] = (mode, blob)
    return entries


def set_index(root: Path, path: str, entry: IndexEntry | None) -> None:
    """Put ``path`` back into the index as ``entry`` (or take it out when None)."""
    if entry is None:
        git.run(["update-index", "--force-remove", "--", path], root)
    else:
        git.run(["update-index", "--add", "--cacheinfo", f"{entry[0]},{entry[1]},{path}"], root)


def refresh_index(root: Path) -> None:
    """Refresh stat data so a restored file reads as unchanged."""
    git.run(["update-index", "-q", "--refresh"], root, check=False)


def move(root: Path, source: str, target: str, *, tracked: bool) -> None:
    """``git mv`` (history follows the file); untracked files are renamed."""
    (root / target).parent.mkdir(parents=True, exist_ok=True)
    if tracked:
        git.run(["mv", "--", source, target], root)
    else:
        os.rename(root / source, root / target)
