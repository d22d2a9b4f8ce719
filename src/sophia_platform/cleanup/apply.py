"""Execute a cleanup plan under a write-ahead journal, and undo it.

Every step is journaled before the next starts, so a kill at any point leaves a journal that
undo replays (the kill-safety test SIGKILLs a real apply right after step N).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sophia_platform.atomicfile import write_atomic
from sophia_platform.cleanup import gitstate
from sophia_platform.cleanup.journal import Journal, PathState, journal_dir, latest_open, new_id
from sophia_platform.cleanup.paths import inside
from sophia_platform.cleanup.plan import Operation, Plan, apply_edits, blob_id
from sophia_platform.errors import CheckFailed


@dataclass
class ApplyResult:
    """What an apply did (``steps``), or would do when it was a dry run."""

    journal: str | None
    steps: list[str] = field(default_factory=list)
    already_done: int = 0
    dry_run: bool = False


@dataclass
class UndoResult:
    """Which paths an undo restored."""

    journal: str | None
    restored: list[str] = field(default_factory=list)
    dry_run: bool = False


def describe(op: Operation) -> str:
    """One line for an operation."""
    if op.kind == "move":
        return f"git mv {op.path} {op.target}"
    if op.kind == "edit":
        return f"edit {op.path} ({len(op.edits)} change(s))"
    return f"write {op.path}"


def check_clean(root: Path, allow_dirty: bool) -> None:
    """Refuse a dirty work tree (the journal's restore points must be committed state)."""
    if allow_dirty:
        return
    dirty = gitstate.dirty_paths(root)
    if dirty:
        raise CheckFailed(
            f"the work tree has {len(dirty)} uncommitted change(s) (e.g. {dirty[0]}); "
            "commit or stash them, or pass --allow-dirty"
        )


def apply_plan(
    root: Path, plan: Plan, *, allow_dirty: bool = False, dry_run: bool = False
) -> ApplyResult:
    """Run the plan's pending operations; operations already done are skipped (idempotent)."""
    root = root.resolve()
    for op in plan.operations:
        for rel in op.touched():
            inside(root, rel)
    pending = [i for i, op in enumerate(plan.operations) if _pending(root, op)]
    result = ApplyResult(None, [describe(plan.operations[i]) for i in pending], dry_run=dry_run)
    result.already_done = len(plan.operations) - len(pending)
    if not pending or dry_run:
        return result
    check_clean(root, allow_dirty)
    journal = _begin(root, plan, [plan.operations[i] for i in pending])
    result.journal = journal.id
    tracked = {e.path for e in journal.entries if e.index is not None}
    for index in pending:
        _run(root, plan.operations[index], tracked)
        journal.mark_done(root, index)
    journal.state = "applied"
    journal.save(root)
    return result


def _current_blob(path: Path) -> str | None:
    return blob_id(path.read_bytes()) if path.is_file() else None


def _pending(root: Path, op: Operation) -> bool:
    """True when ``op`` still has to run; raises when the tree matches neither side."""
    path = inside(root, op.path)
    if op.kind == "move":
        target = inside(root, op.target or "")
        if path.exists() and not target.exists():
            return True
        if not path.exists() and target.exists():
            return False
        raise _changed(op.path if path.exists() else op.target or "")
    current = _current_blob(path)
    after = op.after if op.kind == "edit" else blob_id((op.content or "").encode())
    if current == after:
        return False
    if current == op.before:
        return True
    raise _changed(op.path)


def _changed(path: str) -> CheckFailed:
    return CheckFailed(f"{path} changed since the plan was made; run 'sophia cleanup plan' again")


def _begin(root: Path, plan: Plan, ops: list[Operation]) -> Journal:
    after: dict[str, str | None] = {}
    known: set[str] = set()
    for op in ops:
        if op.kind == "move" and op.target:
            after[op.path], after[op.target] = None, _current_blob(root / op.path)
            known.update((op.path, op.target))
        elif op.kind == "edit":
            after[op.path] = op.after
            known.add(op.path)
        else:
            after[op.path] = blob_id((op.content or "").encode())
            known.add(op.path)
    paths = list(after)
    existing = [p for p in paths if (root / p).is_file()]
    blobs = dict(zip(existing, gitstate.store_blobs(root, existing), strict=True))
    index = gitstate.index_entries(root, paths)
    entries = [
        PathState(
            path=p,
            blob=blobs.get(p),
            mode=(root / p).stat().st_mode & 0o7777 if p in blobs else None,
            index=list(index[p]) if p in index else None,
            after=after[p],
            after_known=p in known,
        )
        for p in paths
    ]
    journal = Journal(new_id(), plan.digest(), "applying", time.time(), entries)
    journal.created_dirs = _missing_dirs(root, paths)
    journal.save(root)
    return journal


def _missing_dirs(root: Path, paths: list[str]) -> list[str]:
    missing: set[str] = set()
    for rel in paths:
        parent = Path(rel).parent
        while parent != Path(".") and not (root / parent).exists():
            missing.add(parent.as_posix())
            parent = parent.parent
    return sorted(missing, key=lambda d: d.count("/"), reverse=True)


def _run(root: Path, op: Operation, tracked: set[str]) -> None:
    path = root / op.path
    if op.kind == "move" and op.target:
        gitstate.move(root, op.path, op.target, tracked=op.path in tracked)
    elif op.kind == "edit":
        text = path.read_bytes().decode("utf-8")
        new = apply_edits(text, op.edits).encode("utf-8")
        if blob_id(new) != op.after:
            raise CheckFailed(f"{op.path}: edits did not give the planned result; re-plan")
        write_atomic(path, new, parents=True)
    elif op.kind == "write":
        mode = None if path.exists() else op.mode
        write_atomic(path, (op.content or "").encode("utf-8"), mode=mode, parents=True)


def undo(
    root: Path, *, journal_id: str | None = None, force: bool = False, dry_run: bool = False
) -> UndoResult:
    """Restore every path of the newest open journal to its state before the apply."""
    root = root.resolve()
    journal = latest_open(root, journal_id)
    if journal is None:
        return UndoResult(None, dry_run=dry_run)
    todo: list[PathState] = []
    index = gitstate.index_entries(root, [e.path for e in journal.entries])
    for entry in journal.entries:
        path = inside(root, entry.path)
        current = _current_blob(path)
        index_now = index.get(entry.path)
        index_before = tuple(entry.index) if entry.index else None
        if current == entry.blob and index_now == index_before:
            continue
        allowed = {entry.blob, entry.after} if entry.after_known else None
        if allowed is not None and current not in allowed and not force:
            raise CheckFailed(
                f"{entry.path} was changed after the apply; undo would lose that change "
                "(pass --force to restore it anyway)"
            )
        todo.append(entry)
    result = UndoResult(journal.id, [e.path for e in todo], dry_run=dry_run)
    if dry_run:
        return result
    for entry in todo:
        _restore(root, entry, index.get(entry.path))
    _remove_temp_files(root, journal)
    for folder in journal.created_dirs:
        _remove_empty(root / folder)
    gitstate.refresh_index(root)
    journal.state = "undone"
    journal.save(root)
    return result


def _restore(root: Path, entry: PathState, index_now: gitstate.IndexEntry | None) -> None:
    path = root / entry.path
    if entry.blob is None:
        if path.is_file():
            path.unlink()
    else:
        data = gitstate.read_blob(root, entry.blob)
        if _current_blob(path) != entry.blob:
            write_atomic(path, data, mode=entry.mode or 0o644, parents=True)
        elif entry.mode is not None:
            os.chmod(path, entry.mode)
    before = (entry.index[0], entry.index[1]) if entry.index else None
    if index_now != before:
        gitstate.set_index(root, entry.path, before)


def _remove_temp_files(root: Path, journal: Journal) -> None:
    """Delete temp files an apply killed inside ``write_atomic`` left next to its targets."""
    for entry in journal.entries:
        target = root / entry.path
        if not target.parent.is_dir():
            continue
        for leftover in target.parent.glob(f".{target.name}.*"):
            if leftover.is_file() and leftover.stat().st_mtime >= journal.created - 1:
                leftover.unlink()


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (or already gone): leave it
        folder.rmdir()


__all__ = ["ApplyResult", "UndoResult", "apply_plan", "describe", "journal_dir", "undo"]
