"""A decoded file as the rules see it: path, kind, text, and offset ↔ line/column mapping."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sophia_platform.audit import literals

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


Span = tuple[int, int]


def lines_containing(text: str, needles: tuple[str, ...]) -> list[Span]:
    """(start, end) of every line of ``text`` holding one of ``needles``, in order.

    The prefilter every hot pattern goes through: ``str.find`` runs at memory speed, while a
    pattern that cannot start with a literal (a word boundary, a lookbehind, a character class) is
    tried at every character. After a hit the search jumps to the end of its line, so a line
    is found once however often a needle repeats on it.
    """
    spans: set[Span] = set()
    for needle in needles:
        i = text.find(needle)
        while i != -1:
            start = text.rfind("\n", 0, i) + 1
            end = text.find("\n", i)
            if end == -1:
                end = len(text)
            spans.add((start, end))
            i = text.find(needle, end)
    return sorted(spans)


def lines_at(text: str, offsets: list[int]) -> list[Span]:
    """(start, end) of every line of ``text`` holding one of ``offsets`` (sorted), in order."""
    spans: list[Span] = []
    end = -1
    for offset in offsets:
        if offset <= end:
            continue  # on the line found last
        start = text.rfind("\n", 0, offset) + 1
        end = text.find("\n", offset)
        if end == -1:
            end = len(text)
        spans.append((start, end))
    return spans


def lines_matching(text: str, hint: re.Pattern[str]) -> list[Span]:
    """(start, end) of every line of ``text`` where ``hint`` matches, in order.

    For hints that need a pattern but start with a literal (a dot, then digits), which the
    regex engine searches for as fast as ``str.find``.
    """
    spans: list[Span] = []
    match = hint.search(text)
    while match is not None:
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.start())  # a hint never spans lines
        if end == -1:
            end = len(text)
        spans.append((start, end))
        match = hint.search(text, end)
    return spans


def finditer_in(pattern: re.Pattern[str], text: str, spans: list[Span]) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)`` restricted to ``spans`` (lines, from the functions above).

    Identical to the search of the whole text when no match can consume a newline and every
    match contains what the spans were found by. ``pos`` keeps the text before a line visible
    to lookbehinds and word boundaries; the search ends after the line's newline, so a lookahead at
    the end of the line sees that newline as it would in the whole text.
    """
    size = len(text)
    for start, end in spans:
        yield from pattern.finditer(text, start, min(end + 1, size))


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
    on_disk: bool = False  # read from the work tree (so a rule may read it again), not a blob
    _indexed: literals.Indexed | None = field(default=None, repr=False)

    @property
    def indexed(self) -> literals.Indexed:
        """The text with its one literal pass (:mod:`.literals`), shared by every rule."""
        found = self._indexed
        if found is None:
            found = self._indexed = literals.indexed(self.text)
        return found

    def has(self, *words: str) -> bool:
        """Whether one of ``words`` occurs in the text (``word in text``, from the one pass)."""
        return self.indexed.has(*words)

    def lines_with(self, *needles: str) -> list[Span]:
        """:func:`lines_containing` of this file, computed once per needle set (rules share)."""
        key = "lines:" + "\0".join(needles)
        spans: list[Span] | None = self.memo.get(key)
        if spans is None:
            spans = self.memo[key] = lines_at(self.text, self.indexed.offsets(*needles))
        return spans

    def finditer(
        self, pattern: re.Pattern[str], pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        """``pattern.finditer(text, pos, endpos)``, tried only where a start literal occurs."""
        return self.indexed.finditer(pattern, pos, endpos)

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """``pattern.search(text)``, tried only where a start literal occurs."""
        return self.indexed.search(pattern)

    @property
    def lowered(self) -> str:
        """The text in lower case (computed once: several rules test words case-blind)."""
        low: str | None = self.memo.get("lowered")
        if low is None:
            low = self.memo["lowered"] = self.text.lower()
        return low

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
