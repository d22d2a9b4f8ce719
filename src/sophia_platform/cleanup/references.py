"""Which files the rest of the repository refers to: one pass, a deliberately cautious grep.

A copy that something imports or names (``from worker.retry_helpers import retry``,
``dockerfile: Dockerfile.fixed``, ``bash scripts/deploy_v2.sh``) is not moved: the cleanup
reports it instead; a file that is moved leaves references behind, which the plan lists.

A file mentions ``dir/name.ext`` when it contains ``name.ext`` (or ``dir/name.ext``) as a word:
letters, digits, ``_`` and ``-`` do not touch it; a dot or a slash may (``./deploy_v2.sh``,
``worker.retry_helpers``). Words are found without a pattern per path: every run of
``[A-Za-z0-9_./-]`` in a file is a token, split at its dots and slashes, and every run of
consecutive segments is looked up in a set, so the cost is linear in the repository's size
whatever the number of paths asked about (the old grep was paths × files). The grep cannot
tell which of two same-named files is meant, so it errs towards "referenced": a person then
decides.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_TOKEN = re.compile(r"[\w./-]+")
_SEPARATOR = re.compile(r"([./])")


def file_words(path: str, *, by_name: bool = True) -> list[str]:
    """The words that name ``path``: its path, its dotted module path, and its file name.

    ``by_name=False`` leaves the bare file name out: when another file that stays has the
    same name (the root ``deploy.sh`` and an archived ``ops/deploy.sh``), only a mention
    with the folder points at this one.
    """
    pure = PurePosixPath(path)
    words = [path]
    if by_name and pure.name != path:
        words.append(pure.name)
    if pure.suffix == ".py" and pure.stem != "__init__":
        words.append(".".join(pure.with_suffix("").parts))
    return words


def module_word(path: str) -> str | None:
    """A Python module's bare name (``retry_helpers``), which imports use; None otherwise."""
    pure = PurePosixPath(path)
    return pure.stem if pure.suffix == ".py" and pure.stem != "__init__" else None


@dataclass
class MentionIndex:
    """For every word asked about, the files that mention it (lines are found on demand)."""

    words: frozenset[str]
    found: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _longest: int = 1
    _heads: frozenset[str] = frozenset()  # the first segment of every word

    def __post_init__(self) -> None:
        split = [_SEPARATOR.split(w) for w in self.words]
        self._longest = max((len(pieces) // 2 + 1 for pieces in split), default=1)
        self._heads = frozenset(pieces[0] for pieces in split)

    def add(self, path: str, text: str) -> None:
        """Index one file's text."""
        if not self.words:
            return
        tokens = set(_TOKEN.findall(text))
        hits = tokens & self.words  # whole tokens, in C
        longest, words, heads = self._longest, self.words, self._heads
        for token in tokens:
            if "." not in token and "/" not in token:
                continue
            pieces = _SEPARATOR.split(token)  # segment, separator, segment, ...
            count = len(pieces) // 2 + 1
            for i in range(count):
                if pieces[2 * i] not in heads:
                    continue
                for j in range(i + 1, min(count, i + longest) + 1):
                    candidate = "".join(pieces[2 * i : 2 * j - 1])
                    if candidate in words:
                        hits.add(candidate)
        for word in hits:
            self.found[word].add(path)

    def replace(self, path: str, text: str) -> None:
        """Index ``path`` again with its new text (what a plan's edits leave)."""
        for users in self.found.values():
            users.discard(path)
        self.add(path, text)

    def files(self, word: str) -> set[str]:
        """The files mentioning ``word``."""
        return self.found.get(word, set())


def first_line(text: str, words: Iterable[str]) -> int:
    """The line of the first mention of any of ``words`` as a word (1 when none)."""
    return min((_first_line(text, word) for word in words), default=1)


def _first_line(text: str, word: str) -> int:
    """``str.find`` and a boundary check: no regex scan."""
    at = text.find(word)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + len(word)] if at + len(word) < len(text) else " "
        if not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_-"):
            return text.count("\n", 0, at) + 1
        at = text.find(word, at + 1)
    return 1 << 30


def copy_words(path: str) -> list[str]:
    """What counts as using a copy: its file name, and for Python its bare module name."""
    module = module_word(path)
    return [PurePosixPath(path).name, *([module] if module else [])]


def referrers(
    index: MentionIndex, paths: Iterable[str], ignore: Collection[str] = ()
) -> dict[str, list[str]]:
    """For each of ``paths``, the files that refer to it (sorted; empty when none).

    ``index`` must have been built with :func:`copy_words` of every path. A file never counts
    as referring to itself; ``ignore`` lists files whose mentions do not count either (copies
    of the same content, files being archived in the same plan).
    """
    out: dict[str, list[str]] = {}
    for path in paths:
        users = {f for word in copy_words(path) for f in index.files(word)}
        out[path] = sorted(users - {path} - set(ignore))
    return out


def mentions_of(
    index: MentionIndex,
    paths: Iterable[str],
    ignore: Collection[str] = (),
    taken_names: Collection[str] = (),
) -> dict[str, dict[str, list[str]]]:
    """For each of ``paths``, the files naming it (:func:`file_words`) → the words they use.

    ``taken_names``: file names of files that stay, which a bare name may mean instead.
    """
    out: dict[str, dict[str, list[str]]] = {}
    for path in paths:
        users: dict[str, list[str]] = defaultdict(list)
        by_name = PurePosixPath(path).name not in taken_names
        for word in file_words(path, by_name=by_name):
            for user in index.files(word):
                if user != path and user not in ignore:
                    users[user].append(word)
        out[path] = dict(sorted(users.items()))
    return out
