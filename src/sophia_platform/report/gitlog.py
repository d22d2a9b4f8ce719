"""A branch's history as trees, read with two git commands whatever its length.

``git log --first-parent --raw`` gives every commit of the branch with the blobs it changed
(merges as their diff against the first parent), so each commit's tree is the previous tree
plus a delta: no ``ls-tree`` per commit. Blob contents come from ``git cat-file --batch``, fed
the ids of a batch on stdin, each distinct blob once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sophia_platform import git
from sophia_platform.errors import ExternalError

_ZERO = "0" * 40
_REGULAR_MODES = frozenset({"100644", "100755"})  # symlinks and submodules are not files
LOG_TIMEOUT_S = 300.0
CAT_BATCH = 2000  # ids per cat-file call: bounded memory, few processes


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit of the branch and the regular files it added, changed (path->blob) or removed."""

    sha: str
    time: int  # committer time, Unix seconds
    subject: str
    changed: dict[str, str] = field(default_factory=dict)
    removed: tuple[str, ...] = ()


def _parse_header(header: bytes) -> tuple[str, int, str]:
    sha, time, subject = header.decode("utf-8", "replace").split(" ", 2)
    return sha, int(time), subject


def _parse_entries(body: bytes) -> tuple[dict[str, str], list[str]]:
    changed: dict[str, str] = {}
    removed: list[str] = []
    parts = body.lstrip(b"\n").split(b"\0")
    for meta, raw_path in zip(parts[0::2], parts[1::2], strict=False):
        if not meta.startswith(b":"):
            continue
        _old_mode, new_mode, _old, new, _status = meta[1:].decode("ascii").split(" ", 4)
        path = raw_path.decode("utf-8", "surrogateescape")
        if new == _ZERO or new_mode not in _REGULAR_MODES:
            removed.append(path)  # deleted, or turned into a symlink/submodule
        else:
            changed[path] = new
    return changed, removed


def commits(root: Path, rev: str = "HEAD") -> list[Commit]:
    """Every first-parent commit of ``rev``, oldest first, with its delta."""
    proc = git.run(
        [
            "log",
            "--first-parent",
            "--reverse",
            "--root",
            "--no-renames",
            "--no-abbrev",
            "--raw",
            "-r",
            "-z",
            "--diff-merges=first-parent",
            "--format=%x01%H %ct %s",
            rev,
            "--",
        ],
        root,
        timeout=LOG_TIMEOUT_S,
    )
    found: list[Commit] = []
    for chunk in proc.stdout.split(b"\x01")[1:]:
        header, _, body = chunk.partition(b"\0")
        sha, time, subject = _parse_header(header)
        changed, removed = _parse_entries(body)
        found.append(Commit(sha, time, subject, changed, tuple(removed)))
    return found


def trees(history: Iterable[Commit]) -> Iterator[tuple[Commit, dict[str, str]]]:
    """Each commit with its whole tree (path -> blob); the dict is reused, copy to keep it."""
    tree: dict[str, str] = {}
    for commit in history:
        for path in commit.removed:
            tree.pop(path, None)
        tree.update(commit.changed)
        yield commit, tree


def read_blobs(root: Path, blob_ids: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
    """(id, contents) of each blob; None for one the object store lacks (a partial clone)."""
    ids = list(dict.fromkeys(blob_ids))
    for start in range(0, len(ids), CAT_BATCH):
        batch = ids[start : start + CAT_BATCH]
        proc = git.run(
            ["cat-file", "--batch"],
            root,
            input=("\n".join(batch) + "\n").encode("ascii"),
            timeout=LOG_TIMEOUT_S,
        )
        yield from _parse_batch(proc.stdout, len(batch))


def _parse_batch(out: bytes, expected: int) -> Iterator[tuple[str, bytes | None]]:
    pos = 0
    for _ in range(expected):
        end = out.index(b"\n", pos)
        header = out[pos:end].decode("ascii", "replace").split(" ")
        pos = end + 1
        if len(header) < 3 or header[1] == "missing":
            yield header[0], None
            continue
        size = int(header[2])
        if header[1] != "blob":
            raise ExternalError(f"git cat-file: {header[0]} is a {header[1]}, not a blob")
        yield header[0], out[pos : pos + size]
        pos += size + 1  # the contents end with a newline of the batch format
