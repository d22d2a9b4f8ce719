"""``duplicate-file``: exact copies anywhere, and near-copies next to each other.

Exact: identical bytes (files of at least 3 non-blank lines / 64 bytes, so empty
``__init__.py`` files do not count). Near: files in the same folder whose names differ only
by a variant word (``Dockerfile`` / ``Dockerfile.fixed``, ``script.py`` /
``script_enhanced.py``), and copies under ``old/``, ``backup/``, ``legacy/``... folders
compared with the live file of the same name, whose non-blank lines are at least 90% the
same. The canonical copy is the one without a variant word, outside such folders, then the
shortest path; the others are flagged. Live files of one name in different folders (one
Dockerfile per service) are not compared.
"""

from __future__ import annotations

import re
import sys
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from sophia_platform.audit.model import Finding, Severity, SkippedFile
from sophia_platform.audit.rules.base import CorpusRule, RepoContext
from sophia_platform.audit.source import SourceFile
from sophia_platform.audit.walker import read_source

NEAR_THRESHOLD = 0.9
MIN_BYTES = 64
MIN_LINES = 3
_VARIANT = (
    r"fixed|fix|enhanced|improved|new|old|backup|bak|copy|orig|original|final|updated|update|"
    r"simple|simplified|working|temp|tmp|alt|clean|cleaned|refactored|optimized|optimised|"
    r"modern|legacy|latest|v\d+|\d+|rev\d*|revised|corrected|complete|full|real|proper|"
    r"better|fast|quick|minimal|alternative"
)
_STALE_FOLDER = re.compile(
    r"(?:^|/)(?:old|backup|backups|bak|legacy|deprecated|unused|attic|copy|copies|tmp|temp|"
    r"previous|v\d+)/",
    re.IGNORECASE,
)
_VARIANT_SUFFIX = re.compile(rf"(?:[._ \-](?:{_VARIANT}))+$", re.IGNORECASE)
_IGNORED_NAMES = frozenset(
    {"license", "license.txt", "license.md", "notice", "py.typed", ".gitkeep", ".keep",
     "__init__.py", "copying", ".gitignore", ".dockerignore"}
)  # fmt: skip


def family(path: str) -> tuple[str, str, bool]:
    """(folder, name with variant words removed, whether the name had one)."""
    folder, _, name = path.rpartition("/")
    name = name.lower()
    # Dockerfile.fixed: the variant word is the "extension"; script_enhanced.py: it is the stem.
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    if ext and _VARIANT_SUFFIX.fullmatch("." + ext):
        return folder, _VARIANT_SUFFIX.sub("", stem), True
    base = _VARIANT_SUFFIX.sub("", stem)
    return folder, base + ("." + ext if ext else ""), base != stem


@dataclass(frozen=True, slots=True)
class FileShape:
    """What duplicate detection keeps of a file."""

    digest: str
    family: tuple[str, str]
    variant: bool
    stale_folder: bool  # under old/, backup/, legacy/...: a copy kept "just in case"
    # crc32 of each stripped non-blank line; None for a live file on disk, whose lines are
    # hashed when it is compared (only files sharing a name are: few of a real repository).
    lines: array[int] | None


def line_hashes(text: str) -> array[int]:
    """crc32 of each stripped non-blank line (one encode, then split/strip/crc32 all in C)."""
    raw = text.encode("utf-8", "surrogatepass")
    return array("I", map(zlib.crc32, filter(None, map(bytes.strip, raw.split(b"\n")))))


# A line holding something besides what bytes.strip() strips (ASCII whitespace).
_CONTENT_LINE = re.compile(r"^[ \t\r\x0b\x0c]*[^ \t\r\x0b\x0c\n]", re.MULTILINE)


def has_lines(text: str, count: int) -> bool:
    """Whether ``text`` has at least ``count`` non-blank lines (``len(line_hashes) >= count``)."""
    return sum(1 for _ in islice(_CONTENT_LINE.finditer(text), count)) >= count


def similarity(a: array[int], b: array[int]) -> float:
    """Share of lines two files have in common (multiset overlap over the longer file)."""
    if not a or not b:
        return 0.0
    common = sum((Counter(a) & Counter(b)).values())
    return common / max(len(a), len(b))


def _rank(path: str, shape: FileShape) -> tuple[int, int, int, int, str]:
    return (int(shape.variant), int(shape.stale_folder), path.count("/"), len(path), path)


class _Lines:
    """Line hashes of the files compared, read again from disk when the pass deferred them."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._read: dict[str, array[int]] = {}

    def similarity(self, a: tuple[str, FileShape], b: tuple[str, FileShape]) -> float:
        """:func:`similarity` of two (path, shape) members."""
        return similarity(self(*a), self(*b))

    def __call__(self, path: str, shape: FileShape) -> array[int]:
        """The line hashes of one member."""
        if shape.lines is not None:
            return shape.lines
        found = self._read.get(path)
        if found is None:
            item = read_source(self._root, path, sys.maxsize)
            found = array("I") if isinstance(item, SkippedFile) else line_hashes(item.text)
            self._read[path] = found
        return found


class DuplicateFileRule(CorpusRule):
    """Copies drift apart; one file, one owner."""

    id = "duplicate-file"
    order = 60
    file_level = True
    tags = ("maintainability",)
    fixed_by_cleanup = True
    name = "DuplicateFile"
    title = "A file duplicates (or nearly duplicates) another file in the repository."
    help = (
        "Keep the canonical file and delete the copy (`Dockerfile.fixed`, `script_enhanced.py`, "
        "`deploy (copy).sh`). Fold any real difference into the canonical file first."
    )
    severity = Severity.NOTE

    def summarize(self, file: SourceFile) -> FileShape | None:
        """Digest, name family and line hashes of a file worth comparing."""
        if file.kind == "lock" or file.name.lower() in _IGNORED_NAMES or file.size < MIN_BYTES:
            return None
        folder, base, variant = family(file.path)
        stale = bool(_STALE_FOLDER.search(folder + "/")) if folder else False
        lines: array[int] | None = None
        # A copy (a variant name, a stale folder) is compared whenever it has a live twin: its
        # lines are hashed here, in the (parallel) pass; another file on disk is compared
        # rarely, and hashed by the judge if it is.
        if file.on_disk and not (variant or stale):
            if not has_lines(file.text, MIN_LINES):
                return None
        else:
            lines = line_hashes(file.text)
            if len(lines) < MIN_LINES:
                return None
        return FileShape(file.digest, (folder, base), variant, stale, lines)

    def judge(
        self, summaries: Sequence[tuple[str, FileShape]], ctx: RepoContext
    ) -> Iterator[Finding]:
        """Group exact and near duplicates and flag every non-canonical member."""
        # Only a file sharing its digest, its name family or its base name with another can
        # be flagged: grouping those alone gives the same findings for a fraction of the work
        # (the report's history judges every commit of a branch).
        digests = Counter(shape.digest for _, shape in summaries)
        families = Counter(shape.family for _, shape in summaries)
        bases = Counter(shape.family[1] for _, shape in summaries)
        summaries = [
            (path, shape)
            for path, shape in summaries
            if digests[shape.digest] > 1 or families[shape.family] > 1 or bases[shape.family[1]] > 1
        ]
        lines = _Lines(ctx.root)
        flagged: dict[str, str] = {}  # flagged path -> its canonical
        by_digest: dict[str, list[tuple[str, FileShape]]] = defaultdict(list)
        by_family: dict[tuple[str, str], list[tuple[str, FileShape]]] = defaultdict(list)
        for path, shape in summaries:
            by_digest[shape.digest].append((path, shape))
            by_family[shape.family].append((path, shape))
        for digest, members in by_digest.items():
            if len(members) > 1:
                yield from self._flag(members, f"exact-{digest[:12]}", flagged, lines, exact=True)
        by_base: dict[str, list[tuple[str, FileShape]]] = defaultdict(list)
        for (folder, base), members in by_family.items():
            by_base[base].extend(members)
            if len(members) < 2 or not any(s.variant for _, s in members):
                continue
            yield from self._near(members, f"near-{folder}/{base}", flagged, lines)
        # Copies kept in old/, backup/, legacy/ folders, compared with the live file only.
        for base, members in by_base.items():
            live = [m for m in members if not m[1].stale_folder and m[0] not in flagged]
            stale = [m for m in members if m[1].stale_folder]
            if live and stale:
                best = min(live, key=lambda m: _rank(*m))
                yield from self._near([best, *stale], f"near-{base}", flagged, lines)

    def _near(
        self,
        members: list[tuple[str, FileShape]],
        group: str,
        flagged: dict[str, str],
        lines: _Lines,
    ) -> Iterator[Finding]:
        members = sorted(members, key=lambda m: _rank(*m))
        canonical_path, canonical = members[0]
        close = [(canonical_path, canonical)]
        for path, shape in members[1:]:
            if lines.similarity((canonical_path, canonical), (path, shape)) >= NEAR_THRESHOLD:
                close.append((path, shape))
        if len(close) > 1:
            yield from self._flag(close, group, flagged, lines, exact=False)

    def _flag(
        self,
        members: Iterable[tuple[str, FileShape]],
        group: str,
        flagged: dict[str, str],
        lines: _Lines,
        *,
        exact: bool,
    ) -> Iterator[Finding]:
        ordered = sorted(members, key=lambda m: _rank(*m))
        first_path, canonical = ordered[0]
        # When the best copy here is itself an exact duplicate, point at the copy that stays.
        canonical_path = flagged.get(first_path, first_path)
        for path, shape in ordered[1:]:
            if path in flagged or path == canonical_path:
                continue
            flagged[path] = canonical_path
            score = 1.0 if exact else lines.similarity((first_path, canonical), (path, shape))
            what = "identical to" if exact else f"{score:.0%} the same as"
            yield self.whole_file(
                path,
                f"{what} {canonical_path}; keep one copy",
                {
                    "group": group,
                    "canonical": canonical_path,
                    "similarity": f"{score:.2f}",
                    "exact": "true" if exact else "false",
                },
            )
