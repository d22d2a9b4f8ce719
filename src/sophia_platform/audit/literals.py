r"""The one literal pass of a file: where every literal the rules look for occurs.

Rules test literals (``"docker" in text``) and search patterns that begin with one (``\bdocker\s+
stack``). Done one by one, each test is a pass over the whole text, and a pattern led by a word
boundary, a lookbehind or a small character class is tried at every character. Here all of them
are found together, in one pass of an Aho-Corasick automaton (``ahocorasick_rs``, compiled),
and a pattern is tried only where one of its start literals occurs.

A rule declares what it needs in its own module, at import:

* :func:`needles` registers literals that rules test with ``SourceFile.has`` or
  ``SourceFile.lines_with``; :func:`lower_needles` words looked for in ``text.lower()``;
* :func:`anchored` registers a compiled pattern searched with ``SourceFile.finditer``: its
  *start literals* (strings one of which every match begins with, lookarounds and word
  boundaries skipped) are read from the pattern itself by :func:`start_literals`, so editing
  a pattern can never leave a stale prefilter. A pattern without usable start literals (one
  led by ``\d`` or a wide class) is searched whole, as before.

Literals that only some files are asked about go to a named :class:`Group` (``deploy`` for
workflows and scripts, ``docs``): its pass runs only over the texts that ask. Asking about a
literal nobody registered still answers correctly: it is added, the automaton rebuilt, and the
text passed again (slow once, never wrong; a test checks that a scan registers nothing late).

Results are exact: :meth:`Indexed.finditer` yields what ``pattern.finditer`` yields. A match
can only start where one of its start literals starts, so trying ``pattern.match`` at those
offsets, in order and after the previous match's end, is the search the engine would do,
skipping only offsets where no match can start (``match`` with a position still sees the text
before it, for lookbehinds and word boundaries).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

import ahocorasick_rs

# A start literal must be at least this long to be worth it (one letter occurs everywhere),
# and derivation gives up on patterns with more start literals than this.
MIN_START = 2
MAX_STARTS = 256
_MAX_PREFIX = 8  # longer start literals are cut: a prefix of a start literal is one too
_MAX_BLIND_PREFIX = 4
_MAX_HEADS = 1024  # prefixes followed at once while reading a pattern
_MAX_CLASS = 8  # a character class of at most this many characters is expanded


class Group:
    """Literals searched together: one automaton, one pass over each text that asks for them.

    Literals only some files are asked about (the deploy signals of scripts and workflows,
    the frames of docs) have a group of their own, so the other files' pass neither looks
    for them nor lists their (many) occurrences.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.words: dict[str, int] = {}  # literal -> its number in the automaton
        self.order: list[str] = []
        self.version = 0  # changes whenever a literal is added: older passes are stale
        self._automaton: Any = None  # over str (offsets in characters)
        self._bytes_automaton: Any = None  # over ASCII text as bytes (the same offsets)
        self._id_sets: dict[tuple[str, ...], frozenset[int]] = {}  # numbers never change

    def add(self, words: Iterable[str]) -> None:
        """Register literals (each once; empty ones are ignored)."""
        new = [w for w in dict.fromkeys(words) if w and w not in self.words]
        for word in new:
            self.words[word] = len(self.order)
            self.order.append(word)
        if new:
            self._automaton = self._bytes_automaton = None
            self.version += 1

    def ids(self, words: tuple[str, ...]) -> frozenset[int]:
        """The numbers of ``words`` (registering the missing ones)."""
        found = self._id_sets.get(words)
        if found is None:  # once per tuple of words: the rest is this dictionary look-up
            self.add(words)
            found = self._id_sets[words] = frozenset(self.words[w] for w in words)
        return found

    def scan(self, text: str) -> Hits:
        """Every occurrence of every literal of the group in ``text``: the one pass."""
        if self._automaton is None and self.order:
            # The DFA is 2-3x faster than the default NFA on a few hundred literals.
            dfa = ahocorasick_rs.Implementation.DFA
            self._automaton = ahocorasick_rs.AhoCorasick(self.order, implementation=dfa)
            self._bytes_automaton = ahocorasick_rs.BytesAhoCorasick(
                [w.encode("utf-8") for w in self.order], implementation=dfa
            )
        at: dict[int, list[int]] = {}
        if self._automaton is not None:
            # An ASCII text's bytes have its offsets; searching them skips the str -> UTF-8
            # offset mapping (a quarter of the pass).
            if text.isascii():
                found_all = self._bytes_automaton.find_matches_as_indexes(
                    text.encode("ascii"), overlapping=True
                )
            else:
                found_all = self._automaton.find_matches_as_indexes(text, overlapping=True)
            for index, start, _ in found_all:
                found = at.get(index)
                if found is None:
                    at[index] = [start]
                else:
                    found.append(start)
        return Hits(at, self.version)


_groups: dict[str, Group] = {}
_starts: dict[re.Pattern[str], tuple[Group, frozenset[int]] | None] = {}


def group(name: str = "") -> Group:
    """The group of literals named ``name`` ("" is the one every file is passed for)."""
    found = _groups.get(name)
    if found is None:
        found = _groups[name] = Group(name)
    return found


def needles(*words: str, group_name: str = "") -> tuple[str, ...]:
    """Register literals the rules test; returns them, for a module constant."""
    group(group_name).add(words)
    return words


def anchored(pattern: re.Pattern[str], group_name: str = "") -> re.Pattern[str]:
    """Register a pattern searched with :meth:`Indexed.finditer`; returns it unchanged."""
    if pattern not in _starts:
        starts = start_literals(pattern)
        where = group(group_name)
        _starts[pattern] = (where, where.ids(starts)) if starts else None
    return pattern


class Hits:
    """Where each literal of a group occurs in one text (every occurrence, overlaps too)."""

    __slots__ = ("_at", "version")

    def __init__(self, at: dict[int, list[int]], version: int) -> None:
        self._at = at
        self.version = version

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


_LONG_LOWER = "\u0130"  # İ: the one character whose lower case is two characters
_LOWER_HEAD = 5  # letters of a word looked for in every case (2**5 strings)


@functools.lru_cache(maxsize=64)
def _lower_heads(words: tuple[str, ...], group_name: str = "") -> tuple[str, ...]:
    """The literals a lower-case search looks for: each word's first letters, every case."""
    heads = tuple(dict.fromkeys(v for w in words for v in lower_variants(w[:_LOWER_HEAD])))
    needles(*heads, group_name=group_name)
    return heads


def lower_needles(*words: str, group_name: str = "") -> tuple[str, ...]:
    """Register lower-case ASCII words searched with :meth:`Indexed.lower_offsets`."""
    _lower_heads(words, group_name)
    return words


def finditer(
    pattern: re.Pattern[str], text: str, found: Hits, pos: int = 0, endpos: int | None = None
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text, pos, endpos)``, tried only where a start literal occurs.

    ``found`` is a current pass of the pattern's group, the pattern has start literals.
    """
    where = _starts[pattern]
    assert where is not None, "finditer needs a pattern with start literals"
    end = len(text) if endpos is None else endpos
    last = pos
    for offset in found.offsets(where[1]):
        if offset < last:
            continue
        if offset >= end:
            break
        match = pattern.match(text, offset, end)
        if match is not None:
            yield match
            last = match.end()


needles(_LONG_LOWER)


class Indexed:
    """A text and its literal passes (one per group asked, redone when literals were added)."""

    __slots__ = ("_hits", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._hits: dict[str, Hits] = {}

    def hits(self, group_name: str = "") -> Hits:
        """The pass of one group over :attr:`text`."""
        found = self._hits.get(group_name)
        where = _groups.get(group_name) or group(group_name)
        if found is None or found.version != where.version:
            found = self._hits[group_name] = where.scan(self.text)
        return found

    def has(self, *words: str, group_name: str = "") -> bool:
        """Whether one of ``words`` occurs in the text (``word in text``)."""
        where = _groups.get(group_name) or group(group_name)
        numbers = where.ids(words)  # registers new words: before the pass is read
        found = self._hits.get(group_name)
        if found is None or found.version != where.version:
            found = self.hits(group_name)
        return found.holds(numbers)

    def offsets(self, *words: str, group_name: str = "") -> list[int]:
        """Offsets where one of ``words`` occurs, in order, once each."""
        numbers = group(group_name).ids(words)
        return self.hits(group_name).offsets(numbers)

    def lowers_evenly(self) -> bool:
        """Whether ``text.lower()`` keeps every offset (no U+0130, which lowers to two)."""
        return self.text.isascii() or not self.has(_LONG_LOWER)

    def lower_offsets(self, words: tuple[str, ...], group_name: str = "") -> list[int]:
        """Offsets in ``text.lower()`` where one of the lower-case ASCII ``words`` occurs.

        From the one pass: the words' first letters in every case that lowers to them
        (:func:`lower_variants`) are registered, and each offset is checked by lowering a
        slice. Only U+0130 lowers to two characters, shifting what follows: a text holding
        it is lowered whole and searched word by word, in the lowered text's offsets.
        """
        text = self.text
        if not self.lowers_evenly():
            lowered = text.lower()
            return sorted({m.start() for w in words for m in re.finditer(re.escape(w), lowered)})
        heads = _lower_heads(words, group_name)
        size = max(map(len, words))
        return [
            o
            for o in self.offsets(*heads, group_name=group_name)
            if text[o : o + size].lower().startswith(words)
        ]

    def has_lower(self, *words: str, group_name: str = "") -> bool:
        """Whether one of the lower-case ASCII ``words`` occurs in ``text.lower()``."""
        text = self.text
        if not self.lowers_evenly():
            lowered = text.lower()
            return any(w in lowered for w in words)
        heads = _lower_heads(words, group_name)
        offsets = self.offsets(*heads, group_name=group_name)
        size = max(map(len, words))
        return any(text[o : o + size].lower().startswith(words) for o in offsets)

    def finditer(
        self, pattern: re.Pattern[str], pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        """``pattern.finditer(text, pos, endpos)``, tried only where a start literal occurs."""
        end = len(self.text) if endpos is None else endpos
        if pattern not in _starts:
            anchored(pattern)
        where = _starts[pattern]
        if where is None:
            return pattern.finditer(self.text, pos, end)
        return finditer(pattern, self.text, self.hits(where[0].name), pos, end)

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
        return _extend(heads, chars, blind) if chars else _stop(heads)
    if op is _c.IN:
        chars = _class_chars(av, blind)
        return _extend(heads, chars, blind) if chars else _stop(heads)
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


def _extend(heads: Heads, chars: list[str], blind: bool = False) -> Heads:
    out: Heads = []
    # Case-blind prefixes multiply by two or more per letter: four letters are enough.
    longest = _MAX_BLIND_PREFIX if blind else _MAX_PREFIX
    for prefix, growing in heads:
        if not growing or len(prefix) >= longest:
            out.append((prefix, False))
        else:
            out.extend((prefix + c, True) for c in chars)
    return out


def _stop(heads: Heads) -> Heads:
    return [(prefix, False) for prefix, _ in heads]


def _unique(heads: Heads) -> Heads:
    return list(dict.fromkeys(heads))
