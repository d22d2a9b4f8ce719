"""The cleanup plan: an ordered list of operations, saved as versioned JSON for review.

A plan never holds a secret value: edits carry only the replaced span (an IP address, a
placeholder) and its replacement; whole-file contents are carried only for files the cleanup
generates (``archive/README.md``, ``sophia.yaml``). File states are git blob ids, so the
journal can restore them from the repository's own object store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sophia_platform.errors import InputError

PLAN_VERSION = 1
OpKind = Literal["move", "edit", "write"]


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class TextEdit:
    """Replace ``old`` at ``line`` (1-based), columns ``[start, end)`` (0-based code points)."""

    line: int
    start: int
    end: int
    old: str
    new: str


@dataclass
class Operation:
    """One step of a plan.

    ``move``: ``git mv path target``. ``edit``: apply ``edits`` to ``path`` (``before`` and
    ``after`` are blob ids). ``write``: replace ``path`` with ``content`` (``before`` None:
    the file must not exist; ``mode`` for new files).
    """

    kind: OpKind
    path: str
    reason: str
    target: str | None = None
    before: str | None = None
    after: str | None = None
    edits: list[TextEdit] = field(default_factory=list)
    content: str | None = None
    mode: int | None = None
    rules: list[str] = field(default_factory=list)

    def touched(self) -> list[str]:
        """Repo-relative paths this operation may change."""
        return [self.path] if self.target is None else [self.path, self.target]


@dataclass(frozen=True)
class Skipped:
    """A finding the plan does not fix, and why."""

    rule_id: str
    path: str
    line: int
    reason: str


@dataclass
class Plan:
    """Everything ``apply`` will do, in order, plus what it will not do."""

    operations: list[Operation] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # address -> config key
    secrets: list[str] = field(default_factory=list)  # required secrets added to the manifest
    diff: str = ""
    version: int = PLAN_VERSION

    def to_json(self) -> str:
        """Serialise (stable key order, so a plan file diffs well)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def digest(self) -> str:
        """A short id of the plan's operations (journals name the plan they applied)."""
        ops = json.dumps([asdict(op) for op in self.operations], sort_keys=True)
        return hashlib.sha256(ops.encode()).hexdigest()[:16]

    @classmethod
    def from_json(cls, text: str, source: str = "plan") -> Plan:
        """Parse a plan file, refusing unknown versions."""
        try:
            raw: dict[str, Any] = json.loads(text)
            if raw.get("version") != PLAN_VERSION:
                raise InputError(
                    f"{source}: plan version {raw.get('version')!r} is not {PLAN_VERSION}; "
                    "run 'sophia cleanup plan' again"
                )
            ops = [
                Operation(**{**op, "edits": [TextEdit(**e) for e in op.get("edits", [])]})
                for op in raw.get("operations", [])
            ]
            skipped = [Skipped(**s) for s in raw.get("skipped", [])]
            return cls(
                operations=ops,
                skipped=skipped,
                names=dict(raw.get("names", {})),
                secrets=list(raw.get("secrets", [])),
                diff=str(raw.get("diff", "")),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{source}: not a cleanup plan ({exc}); run 'sophia cleanup plan'"
            ) from (exc)

    @classmethod
    def read(cls, path: Path) -> Plan:
        """Read a plan file."""
        try:
            return cls.from_json(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise InputError(
                f"cannot read plan {path}: {exc.strerror}; run 'sophia cleanup plan'"
            ) from (exc)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split on newlines only (as the audit counts lines)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """Apply non-overlapping edits to ``text``; raises ValueError when one does not match."""
    lines = split_lines(text)
    for edit in sorted(edits, key=lambda e: (e.line, e.start), reverse=True):
        if edit.line == len(lines) + 1 and edit.start == 0 and not edit.old:
            lines.append(edit.new)
            continue
        if not 1 <= edit.line <= len(lines):
            raise ValueError(f"line {edit.line} out of range")
        line = lines[edit.line - 1]
        if line[edit.start : edit.end] != edit.old:
            raise ValueError(f"line {edit.line} does not contain the expected text")
        lines[edit.line - 1] = line[: edit.start] + edit.new + line[edit.end :]
    return "".join(lines)
