"""Which files the rest of the repository refers to: a simple, deliberately cautious grep.

A copy that something imports or names (``from worker.retry_helpers import retry``,
``dockerfile: Dockerfile.fixed``, ``bash scripts/deploy_v2.sh``) is not moved: the cleanup
reports it instead. A file refers to ``dir/name.ext`` when it contains ``name.ext`` as a whole
word, or, for a Python module, ``name`` as a whole word. The grep cannot tell which of two
same-named files is meant, so it errs towards "referenced": a person then decides.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path, PurePosixPath

from sophia_platform.audit.model import SkippedFile
from sophia_platform.audit.walker import list_files, read_all

_NOT_SEARCHED = ("archive/", ".sophia/", ".git/")


def pattern(path: str) -> re.Pattern[str]:
    """The words that refer to ``path``: its file name, and its module name for Python."""
    pure = PurePosixPath(path)
    names = [re.escape(pure.name)]
    if pure.suffix == ".py" and pure.stem != "__init__":
        names.append(re.escape(pure.stem))
    # A dot may come before (`worker.retry_helpers`, `./deploy_v2.sh`), not a word character.
    return re.compile(r"(?<![\w-])(?:" + "|".join(names) + r")(?![\w-])")


def referrers(
    root: Path, paths: Iterable[str], ignore: Collection[str] = ()
) -> dict[str, list[str]]:
    """For each of ``paths``, the files that refer to it (sorted; empty when none).

    A file never counts as referring to itself; ``ignore`` lists files whose mentions do not
    count either (copies of the same content, files being archived in the same plan).
    """
    wanted = {path: pattern(path) for path in paths}
    found: dict[str, list[str]] = {path: [] for path in wanted}
    if not wanted:
        return found
    quick = {path: PurePosixPath(path).stem for path in wanted}  # cheap substring test first
    for source in read_all(list_files(root)):
        if isinstance(source, SkippedFile) or source.path.startswith(_NOT_SEARCHED):
            continue
        if source.path in ignore:
            continue
        text = source.text
        for path, rx in wanted.items():
            if source.path != path and quick[path] in text and rx.search(text):
                found[path].append(source.path)
    return found
