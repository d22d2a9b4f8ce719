"""The history cache: per-file scan results by (path, blob), history points by commit.

One SQLite file in the repository's git directory (``.git/sophia-cache/history.sqlite``, the
common dir for worktrees), or ``$SOPHIA_CACHE_DIR``. Every row carries the version of what
produced it (the audit's rule-set version plus the report's own per-file facts); opening the
cache with another version drops the old rows, so a changed rule can never serve stale
results. Per-file results are pickled (they hold rule summaries of any type); the file is
local state like the rest of ``.git``, written by this tool only.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sophia_platform import git
from sophia_platform.report.model import HistoryPoint

CACHE_FILE = "history.sqlite"


def default_dir(root: Path) -> Path:
    """Where the cache of the repository at ``root`` lives."""
    override = os.environ.get("SOPHIA_CACHE_DIR")
    if override:
        return Path(override)
    common = git.run(["rev-parse", "--git-common-dir"], root).stdout.decode().strip()
    return (root / common).resolve() / "sophia-cache"


class HistoryCache:
    """Scan results and history points of one rule-set version."""

    def __init__(self, folder: Path, version: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / CACHE_FILE
        self.version = version
        self._db = sqlite3.connect(self.path)
        self._db.executescript(
            "CREATE TABLE IF NOT EXISTS files (version TEXT, key TEXT, value BLOB,"
            " PRIMARY KEY (version, key));"
            "CREATE TABLE IF NOT EXISTS points (version TEXT, sha TEXT, value TEXT,"
            " PRIMARY KEY (version, sha));"
        )
        with self._db:
            self._db.execute("DELETE FROM files WHERE version != ?", (version,))
            self._db.execute("DELETE FROM points WHERE version != ?", (version,))
        self._raw: dict[str, bytes] | None = None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _rows(self) -> dict[str, bytes]:
        if self._raw is None:
            rows = self._db.execute(
                "SELECT key, value FROM files WHERE version = ?", (self.version,)
            )
            self._raw = dict(rows)
        return self._raw

    def known(self) -> set[str]:
        """Keys of every cached per-file result."""
        return set(self._rows())

    def file(self, key: str) -> Any:
        """One cached per-file result (KeyError when absent)."""
        return pickle.loads(self._rows()[key])  # our own cache in .git, written only by this tool

    def put_files(self, items: Iterable[tuple[str, Any]]) -> None:
        """Store per-file results."""
        rows = [(self.version, key, pickle.dumps(value, protocol=5)) for key, value in items]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", rows)
        if self._raw is not None:
            self._raw.update((key, value) for _, key, value in rows)

    def points(self, shas: Iterable[str]) -> dict[str, HistoryPoint]:
        """Cached history points of these commits."""
        wanted = set(shas)
        rows = self._db.execute("SELECT sha, value FROM points WHERE version = ?", (self.version,))
        return {
            sha: HistoryPoint.model_validate_json(value) for sha, value in rows if sha in wanted
        }

    def put_points(self, points: Iterable[HistoryPoint]) -> None:
        """Store history points."""
        rows = [(self.version, p.commit, p.model_dump_json()) for p in points]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO points VALUES (?, ?, ?)", rows)


@contextlib.contextmanager
def opened(folder: Path, version: str) -> Iterator[HistoryCache]:
    """A cache closed when the block ends."""
    cache = HistoryCache(folder, version)
    try:
        yield cache
    finally:
        cache.close()
