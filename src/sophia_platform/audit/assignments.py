"""``key = value`` pairs in any file type, found cheaply, with the value's character span."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sophia_platform.audit.literals import lower_needles
from sophia_platform.audit.source import SourceFile, Span, lines_at, lines_containing


@dataclass(frozen=True, slots=True)
class Assignment:
    """``key <sep> value`` found in a file, with the value's character span."""

    key: str
    value: str
    start: int
    end: int
    quoted: bool = True  # False for a bare value: in code, an expression rather than a literal


# key, an optional closing quote, a separator, then a quoted or bare value on the same line.
_ASSIGN = re.compile(
    # A left boundary: without it a long alphanumeric run (a base64 blob, an inline source map)
    # is retried from every character, each try running to the end of the run (quadratic).
    # It is checked after the key's first character (a two-character lookbehind), so the
    # pattern starts with a character set that the engine skips to; and the key is possessive
    # (``{0,120}+``): nothing after a key can be a key character, so giving some back never
    # helps, and trying each shorter key made every failed identifier cost its length again.
    r"""(?P<key>[A-Za-z_](?<![A-Za-z0-9_.\-].)[A-Za-z0-9_.\-]{0,120}+)["'`]?"""
    r"""(?:[ \t]*:[ \t]*[A-Za-z_][\w\[\]., |]*?(?=[ \t]*=[^=]))?"""  # Python annotation
    r"""[ \t]*(?::=|=>|=|:)[ \t]*"""
    r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>\$\{\{[^}\n]*\}\}|\$\{[^}\n]*\}|[^\s"'`,;#)}\]]+))"""
)
_GETENV = re.compile(
    r"""(?:getenv|environ\.get|setdefault|get_config_value|config\.get)\(\s*["'](?P<key>[A-Za-z_]\w*)["']"""
    r"""\s*,\s*(?:default\s*=\s*)?(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)')"""
)


# Words every secret-like key contains (see is_secret_key), in any case; lines without one
# are skipped.
_HINTS = lower_needles("key", "token", "secret", "pass", "pwd", "credential", "_pat")


def _lines_with_hints(file: SourceFile) -> list[Span]:
    """(start, end) of every line containing a hint word in any case, in order."""
    if not file.indexed.lowers_evenly():  # the lowered text's lines, as they always were
        return lines_containing(file.lowered, _HINTS)
    return lines_at(file.text, file.indexed.lower_offsets(_HINTS))


# The patterns a hint line is searched with, by (has a separator, has a call).
_PATTERNS: dict[tuple[bool, bool], tuple[re.Pattern[str], ...]] = {
    (True, True): (_ASSIGN, _GETENV),
    (True, False): (_ASSIGN,),
    (False, True): (_GETENV,),
    (False, False): (),
}


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end == -1 else end


def assignments(text: str, lines: list[Span]) -> list[Assignment]:
    """Every ``KEY = value`` / ``key: value`` / ``getenv("KEY", "value")`` with a secret-ish key.

    Only ``lines`` are parsed: those containing a word of a secret-like name (the cheap
    pre-filter that keeps the scan fast); callers still check :func:`is_secret_key`.
    """
    found: list[Assignment] = []
    for start, end in lines:
        # An assignment needs a separator (":" or "=") on its line, a getenv-style default a
        # call; a third of the hint lines (comments, prose) have no separator.
        separated = text.find("=", start, end) != -1 or text.find(":", start, end) != -1
        calls = text.find("(", start, end) != -1
        for pattern in _PATTERNS[separated, calls]:
            stop = end
            if pattern is _GETENV and text[start:end].rstrip().endswith("("):
                stop = _line_end(text, _line_end(text, end + 1) + 1)  # os.getenv(\n KEY,\n value
            for match in pattern.finditer(text, start, stop):
                # The value is the pattern's last group, one of dq, sq (quoted) and bare.
                group = match.lastgroup
                if group is None or group == "key":
                    continue
                found.append(
                    Assignment(
                        match.group("key"),
                        match.group(group),
                        match.start(group),
                        match.end(group),
                        group != "bare",
                    )
                )
    return found


def names_itself(item: Assignment) -> bool:
    """``PASSWORD = "password"``, ``"API_KEY": "api_key"``: a name for the setting, not a value."""
    return item.value.strip().lower().replace("-", "_") == item.key.lower().replace("-", "_")


def file_assignments(file: SourceFile) -> list[Assignment]:
    """:func:`assignments` of a file, computed once and shared by the secret rules."""
    cached: list[Assignment] | None = file.memo.get("assignments")
    if cached is None:
        cached = file.memo["assignments"] = assignments(file.text, _lines_with_hints(file))
    return cached
