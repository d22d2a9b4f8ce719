"""A decoded file as the rules see it: path, kind, text, and offset ↔ line/column mapping."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "mix.lock",
        "packages.lock.json",
        "flake.lock",
        "requirements.lock",
    }
)

_NEWLINE = re.compile("\n")

_EXT_KIND = {
    ".py": "python",
    ".pyi": "python",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".env": "env",
    ".md": "docs",
    ".rst": "docs",
    ".txt": "docs",
    ".adoc": "docs",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "ini",
    ".properties": "ini",
    ".tf": "hcl",
    ".hcl": "hcl",
    ".js": "code",
    ".ts": "code",
    ".go": "code",
    ".java": "code",
    ".rb": "code",
    ".rs": "code",
}


def _suffix(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return "." + ext if dot and stem else ""


def file_kind(path: str, head: str = "") -> str:
    """Classify a file by name (and shebang): python, shell, yaml, json, toml, env, docs, ..."""
    name = path.rpartition("/")[2].lower()
    if name in LOCK_FILES or name.endswith(".lock"):
        return "lock"
    if name.startswith(".env") or name.endswith(".env") or ".env." in name:
        return "env"
    if name.startswith("dockerfile") or name.endswith(".dockerfile"):
        return "dockerfile"
    suffix = _suffix(name)
    if suffix in {".example", ".sample", ".template", ".tmpl", ".bak", ".orig", ".old"}:
        if name[: -len(suffix)] == "env":
            return "env"  # env.example, env.template: a dotenv file without the dot
        suffix = _suffix(name[: -len(suffix)])
    kind = _EXT_KIND.get(suffix)
    if kind is not None:
        return kind
    if head.startswith("#!"):
        first = head.split("\n", 1)[0]
        if "python" in first:
            return "python"
        if re.search(r"\b(ba|z|da|k)?sh\b", first):
            return "shell"
    return "other"


@dataclass(slots=True)
class SourceFile:
    """One decoded, scannable file."""

    path: str  # repo-relative POSIX
    text: str
    kind: str
    size: int
    digest: str  # sha1 of the raw bytes, for exact-duplicate detection
    _lines: list[str] | None = field(default=None, repr=False)
    _starts: list[int] | None = field(default=None, repr=False)  # offsets where lines start
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # per-file results rules share

    @property
    def name(self) -> str:
        """The file name without folders."""
        return self.path.rpartition("/")[2]

    @property
    def lines(self) -> list[str]:
        """The text split into lines without their endings."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset into :attr:`text`."""
        starts = self._starts
        if starts is None:
            # Built once per file that has findings: a count per finding would be O(n) each.
            starts = self._starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]
        index = bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line ("" past the end), without a trailing carriage return."""
        lines = self.lines
        return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""
