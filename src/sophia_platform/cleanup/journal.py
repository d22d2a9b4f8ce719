"""The write-ahead journal that makes every apply undoable, even after ``kill -9``.

Before the first change, apply records for every path it may touch the state before (a git
blob id written into the object store with ``git hash-object -w``, the file mode, and the index
entry) and the state it will leave. Only ids are recorded, never content, so a journal holds
no secret. ``undo`` puts every recorded path back, whichever steps had run.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sophia_platform import git
from sophia_platform.atomicfile import write_atomic
from sophia_platform.errors import CheckFailed, InputError

JOURNAL_VERSION = 1
STATE_DIR = ".sophia"
JournalState = Literal["applying", "applied", "undone"]


@dataclass
class PathState:
    """One path before the apply, and (when known) the blob it should hold after."""

    path: str
    blob: str | None  # None: the path did not exist
    mode: int | None
    index: list[str] | None  # [mode, blob] of the stage-0 entry, None: not in the index
    after: str | None = None
    after_known: bool = False


@dataclass
class Journal:
    """What one apply changed or was about to change."""

    id: str
    plan: str
    state: JournalState
    created: float
    entries: list[PathState] = field(default_factory=list)
    created_dirs: list[str] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    version: int = JOURNAL_VERSION

    def save(self, root: Path) -> None:
        """Write durably (temp file, fsync, rename) so a kill never leaves half a journal."""
        data = json.dumps(asdict(self), indent=2, sort_keys=True).encode()
        write_atomic(journal_dir(root) / f"{self.id}.json", data, mode=0o600, parents=True)

    def mark_done(self, root: Path, step: int) -> None:
        """Append a finished step to the progress file (O(1): big plans stay fast).

        Undo does not need it (it restores every recorded path); it tells people and the
        kill-safety test how far an interrupted apply got.
        """
        self.done.append(step)
        with (journal_dir(root) / f"{self.id}.progress").open("a", encoding="ascii") as fh:
            fh.write(f"{step}\n")

    @classmethod
    def load(cls, path: Path) -> Journal:
        """Read a journal file (and its progress file)."""
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read journal {path}: {exc}; it may be damaged") from exc
        if raw.get("version") != JOURNAL_VERSION:
            raise InputError(f"{path}: journal version {raw.get('version')!r} is unknown")
        raw["entries"] = [PathState(**e) for e in raw.get("entries", [])]
        progress = path.with_suffix(".progress")
        if progress.exists():
            steps = progress.read_text(encoding="ascii").split()
            raw["done"] = sorted({*raw.get("done", []), *(int(s) for s in steps if s.isdigit())})
        return cls(**raw)


def state_dir(root: Path) -> Path:
    """The repo's ignored state folder (``.sophia/``), made ignored via ``.git/info/exclude``."""
    path = root / STATE_DIR
    if path.is_symlink():  # journals and stored values must stay inside the repository
        raise CheckFailed(f"refusing {path}: it is a symlink; make it a plain folder")
    path.mkdir(mode=0o700, exist_ok=True)
    ignored = git.run(["check-ignore", "-q", f"{STATE_DIR}/x"], root, check=False)
    if ignored.returncode != 0:
        exclude = Path(
            git.run(["rev-parse", "--git-path", "info/exclude"], root).stdout.decode().strip()
        )
        exclude = exclude if exclude.is_absolute() else root / exclude
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as fh:
            fh.write(f"\n/{STATE_DIR}/\n")
    return path


def journal_dir(root: Path) -> Path:
    """Where journals live (``state_dir`` made the folder ignored when apply began)."""
    path = root / STATE_DIR / "cleanup" / "journal"
    if not path.is_dir():
        state_dir(root)
        path.mkdir(parents=True, exist_ok=True)
    return path


def new_id() -> str:
    """A sortable journal id (UTC time plus pid)."""
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1_000_000_000))
    return f"{stamp}.{now % 1_000_000_000:09d}Z"


def latest_open(root: Path, journal_id: str | None = None) -> Journal | None:
    """The newest journal not yet undone (or the one named)."""
    folder = journal_dir(root)
    if journal_id is not None:
        path = folder / f"{journal_id}.json"
        if not path.exists():
            raise InputError(f"no journal {journal_id!r} in {folder}; run 'sophia cleanup undo'")
        return Journal.load(path)
    for path in sorted(folder.glob("*.json"), reverse=True):
        journal = Journal.load(path)
        if journal.state != "undone":
            return journal
    return None


def list_journals(root: Path) -> list[Journal]:
    """Every journal, newest first."""
    return [Journal.load(p) for p in sorted(journal_dir(root).glob("*.json"), reverse=True)]
