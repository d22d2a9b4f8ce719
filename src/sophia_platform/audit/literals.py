r"""The one literal pass of a file: where every literal the rules look for occurs.

Rules test literals (``"docker" in text``) and search patterns that begin with one (``\bdocker\s+
stack``). Done one by one, each test is a pass over the whole text, and a pattern led by a word
boundary, a lookbehind or a small character class is tried at every character. Here all of them
are found together, in one pass of an Aho-Corasick automaton (``ahocorasick_rs``, compiled),
and a pattern is tried only where one of its start literals occurs.

A rule declares what it needs in its own module, at import:

* :func:`needles` registers literals that rules test with :meth:`Hits.has` or
  ``SourceFile.lines_with``;
* :func:`anchored` registers a compiled pattern: its *start literals* (strings one of which
  every match begins with, lookarounds and word boundaries skipped) are read from the pattern
  itself by :func:`start_literals`, so editing a pattern can never leave a stale prefilter.
  A pattern without usable start literals (one led by ``\d``, or case-blind) is searched
  as before.

Asking about a literal or pattern nobody registered still answers correctly: it is added, the
automaton rebuilt, and the file passed again (slow once, never wrong).

Results are exact: :func:`finditer` yields what ``pattern.finditer`` yields. A match can only
start where one of its start literals starts, so trying ``pattern.match`` at those offsets, in
order and after the previous match's end, is the search the engine would do, skipping only
offsets where no match can start (``match`` with a position still sees the text before it, for
lookbehinds and word boundaries).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

import ahocorasick_rs

# A start literal must be at least this long to be worth it (one letter occurs everywhere),
# and derivation gives up on patterns with more start literals than this.
MIN_START = 2
MAX_STARTS = 256
_MAX_PREFIX = 8  # longer start literals are cut: a prefix of a start literal is one too
_MAX_HEADS = 1024  # prefixes followed at once while reading a pattern
_MAX_CLASS = 8  # a character class of at most this many characters is expanded

_words: dict[str, int] = {}  # literal -> its index in the automaton
_order: list[str] = []
_automaton: Any = None
_version = 0
_id_sets: dict[tuple[str, ...], frozenset[int]] = {}  # numbers stay: literals are only added
_starts: dict[re.Pattern[str], frozenset[int] | None] = {}  # a pattern's start literals


def needles(*words: str) -> tuple[str, ...]:
    """Register literals the rules test; returns them, for a module constant."""
    global _automaton, _version
    new = [w for w in dict.fromkeys(words) if w and w not in _words]
    if new:
        for word in new:
            _words[word] = len(_order)
            _order.append(word)
        _automaton = None
        _version += 1
    return words


def anchored(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """Register a pattern searched with :func:`finditer`/:func:`search`; returns it unchanged."""
    if pattern not in _starts:
        starts = start_literals(pattern)
        _starts[pattern] = ids(starts) if starts else None
    return pattern


class Hits:
    """Where each registered literal occurs in one text (every occurrence, overlaps too)."""

    __slots__ = ("_at", "version")

    def __init__(self, at: dict[int, list[int]], version: int) -> None:
        self._at = at
        self.version = version

    def has(self, word: str) -> bool:
        """``word in text``."""
        return _words[word] in self._at

    def starts(self, word: str) -> list[int]:
        """Offsets where ``word`` occurs, in order."""
        return self._at.get(_words[word], [])

    def holds(self, ids: frozenset[int]) -> bool:
        """Whether one of the literals numbered ``ids`` occurs."""
        return not self._at.keys().isdisjoint(ids)

    def offsets(self, ids: frozenset[int]) -> list[int]:
        """Offsets where one of the literals numbered ``ids`` occurs, in order, once each."""
        present = self._at.keys() & ids  # the few this file holds, found in C
        if not present:
            return []
        if len(present) == 1:
            return self._at[present.pop()]
        return sorted({o for i in present for o in self._at[i]})


def ids(words: tuple[str, ...]) -> frozenset[int]:
    """The automaton's numbers of ``words`` (registering the missing ones)."""
    found = _id_sets.get(words)
    if found is None:
        needles(*words)
        found = _id_sets[words] = frozenset(_words[w] for w in words)
    return found


def lower_variants(word: str) -> tuple[str, ...]:
    """Every string whose ``str.lower()`` is the ASCII ``word``, character for character.

    The upper and lower case of each letter, and the Kelvin sign for ``k``: the only
    character outside ASCII that lowers to an ASCII letter (the tests check all of Unicode).
    """
    out = [""]
    for char in word:
        cases = dict.fromkeys([char.lower(), char.upper(), *("\u212a" if char in "kK" else "")])
        out = [prefix + c for prefix in out for c in cases]
    return tuple(out)


def hits(text: str) -> Hits:
    """Every occurrence of every registered literal in ``text``: the one pass."""
    global _automaton
    if _automaton is None and _order:
        # The DFA is 2-3x faster than the default NFA on a few hundred literals.
        _automaton = ahocorasick_rs.AhoCorasick(
            _order, implementation=ahocorasick_rs.Implementation.DFA
        )
    at: dict[int, list[int]] = {}
    if _automaton is not None:
        for index, start, _ in _automaton.find_matches_as_indexes(text, overlapping=True):
            found = at.get(index)
            if found is None:
                at[index] = [start]
            else:
                found.append(start)
    return Hits(at, _version)


def version() -> int:
    """Changes whenever a literal is registered: a file's :class:`Hits` of another are stale."""
    return _version


def pattern_starts(pattern: re.Pattern[str]) -> frozenset[int] | None:
    """The numbers of a pattern's start literals (registering it when it was not)."""
    if pattern not in _starts:
        anchored(pattern)
    return _starts[pattern]


def finditer(
    pattern: re.Pattern[str], text: str, found: Hits, pos: int = 0, endpos: int | None = None
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text, pos, endpos)``, tried only where a start literal occurs.

    ``found`` must be current (:func:`version`) and the pattern registered with start literals.
    """
    starts = _starts[pattern]
    assert starts, "finditer needs a pattern with start literals"
    end = len(text) if endpos is None else endpos
    last = pos
    offsets = found.offsets(starts)
    for offset in offsets:
        if offset < last:
            continue
        if offset >= end:
            break
        match = pattern.match(text, offset, end)
        if match is not None:
            yield match
            last = match.end()


class Indexed:
    """A text and its literal pass (computed on first use, redone when literals were added)."""

    __slots__ = ("_hits", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._hits: Hits | None = None

    @property
    def hits(self) -> Hits:
        """The pass over :attr:`text`."""
        found = self._hits
        if found is None or found.version != _version:
            found = self._hits = hits(self.text)
        return found

    def has(self, *words: str) -> bool:
        """Whether one of ``words`` occurs in the text (``word in text``)."""
        numbers = ids(words)  # registers new words: before the pass is read
        return self.hits.holds(numbers)

    def offsets(self, *words: str) -> list[int]:
        """Offsets where one of ``words`` occurs, in order, once each."""
        numbers = ids(words)
        return self.hits.offsets(numbers)

    def finditer(
        self, pattern: re.Pattern[str], pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        """``pattern.finditer(text, pos, endpos)``, tried only where a start literal occurs."""
        end = len(self.text) if endpos is None else endpos
        if not pattern_starts(pattern):
            return pattern.finditer(self.text, pos, end)
        return finditer(pattern, self.text, self.hits, pos, end)

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """``pattern.search(text)``."""
        return next(self.finditer(pattern), None)


@functools.lru_cache(maxsize=16)  # a file's text and its derived texts, while it is checked
def indexed(text: str) -> Indexed:
    """The :class:`Indexed` of ``text``, shared by everyone asking about the same text."""
    return Indexed(text)


# --- start literals of a pattern, read from its parse tree ------------------------------------

Heads = list[tuple[str, bool]]  # (prefix every match on this path starts with, still growing)


def start_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which every match of ``pattern`` starts with; None when there are none.

    Read from the pattern's parse tree: literals extend the prefixes, small character classes
    and alternations multiply them, optional parts fork them, zero-width assertions are
    skipped, anything else ends them. A case-blind letter stands for every character it
    matches (``k`` also for the Kelvin sign). None when a start literal would be shorter than
    :data:`MIN_START`, or there would be more than :data:`MAX_STARTS` of them.
    """
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # an unexpected parse tree means no prefilter, not an error
        return None
    heads = _sequence(list(tree), [("", True)], bool(pattern.flags & re.IGNORECASE))
    if heads is None:
        return None
    words = {prefix for prefix, _ in heads}
    for size in range(_MAX_PREFIX, MIN_START - 1, -1):
        cut = _minimal({w[:size] for w in words})  # shorter: fewer literals, more offsets
        if len(cut) <= MAX_STARTS:
            return cut if len(cut[0]) >= MIN_START else None
    return None


def _minimal(words: set[str]) -> tuple[str, ...]:
    """The words not led by a shorter one (whose offsets include theirs), shortest first."""
    kept: list[str] = []
    for word in sorted(words, key=len):
        if not any(word.startswith(k) for k in kept):
            kept.append(word)
    return tuple(kept)


def _sequence(items: list[tuple[Any, Any]], heads: Heads, blind: bool) -> Heads | None:
    for op, av in items:
        if not any(growing for _, growing in heads):
            break
        result = _item(op, av, heads, blind)
        if result is None:
            return None
        heads = _unique(result)
        size = _MAX_PREFIX
        while len(heads) > _MAX_HEADS and size > 0:
            # Too many: shorter prefixes (each still one every match on its path starts with).
            heads = _unique([(prefix[:size], False) for prefix, _ in heads])
            size -= 1
    return heads


def _item(op: Any, av: Any, heads: Heads, blind: bool) -> Heads | None:
    if op is _c.LITERAL:
        chars = _folds(chr(av)) if blind else [chr(av)]
        return _extend(heads, chars) if chars else _stop(heads)
    if op is _c.IN:
        chars = _class_chars(av, blind)
        return _extend(heads, chars) if chars else _stop(heads)
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return heads  # zero width: the match starts at the same character
    if op is _c.SUBPATTERN:
        _, add_flags, del_flags, sub = av
        inner = (blind or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _sequence(list(sub), heads, inner)
    if op is _c.ATOMIC_GROUP:
        return _sequence(list(av), heads, blind)
    if op is _c.BRANCH:
        out: Heads = []
        for alternative in av[1]:
            result = _sequence(list(alternative), heads, blind)
            if result is None:
                return None
            out.extend(result)
        return out
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        low, high, sub = av
        if high == 0:
            return heads
        once = _sequence(list(sub), heads, blind)
        if once is None:
            return None
        taken = _stop(once)  # after one repetition another may follow: stop growing
        return heads + taken if low == 0 else taken
    return _stop(heads)


def _class_chars(items: list[tuple[Any, Any]], blind: bool) -> list[str] | None:
    chars: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            chars.append(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.extend(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return None  # negated, a category (\d, \w), a wide range
    if blind:
        folded = [_folds(c) for c in chars]
        if any(f is None for f in folded):
            return None
        chars = list(dict.fromkeys(c for f in folded if f for c in f))
    return chars if len(chars) <= _MAX_CLASS else None


# Characters a case-blind ASCII letter matches besides its two cases (checked over all of
# Unicode by the tests): the dotted and dotless i, the long s, the Kelvin sign.
_EXTRA_FOLDS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def _folds(char: str) -> list[str] | None:
    """Every character a case-blind ``char`` matches; None for a non-ASCII letter."""
    if not char.isascii():
        return None if char.lower() != char.upper() else [char]
    low = char.lower()
    return list(dict.fromkeys([low, char.upper(), *_EXTRA_FOLDS.get(low, "")]))


def _extend(heads: Heads, chars: list[str]) -> Heads:
    out: Heads = []
    for prefix, growing in heads:
        if not growing or len(prefix) >= _MAX_PREFIX:
            out.append((prefix, False))
        else:
            out.extend((prefix + c, True) for c in chars)
    return out


def _stop(heads: Heads) -> Heads:
    return [(prefix, False) for prefix, _ in heads]


def _unique(heads: Heads) -> Heads:
    return list(dict.fromkeys(heads))
