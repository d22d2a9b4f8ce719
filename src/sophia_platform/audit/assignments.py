"""``key = value`` pairs in any file type, found cheaply, with the value's character span."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sophia_platform.audit.source import SourceFile


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
    r"""(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,120})["'`]?"""
    r"""(?:[ \t]*:[ \t]*[A-Za-z_][\w\[\]., |]*?(?=[ \t]*=[^=]))?"""  # Python annotation
    r"""[ \t]*(?::=|=>|=|:)[ \t]*"""
    r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>\$\{\{[^}\n]*\}\}|\$\{[^}\n]*\}|[^\s"'`,;#)}\]]+))"""
)
_GETENV = re.compile(
    r"""(?:getenv|environ\.get|setdefault|get_config_value|config\.get)\(\s*["'](?P<key>[A-Za-z_]\w*)["']"""
    r"""\s*,\s*(?:default\s*=\s*)?(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)')"""
)


# Words every secret-like key contains (see is_secret_key); lines without one are skipped.
_HINTS = ("key", "token", "secret", "pass", "pwd", "credential", "_pat")


def _lines_with_hints(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line containing a hint word, in order (str.find is the fast path)."""
    lowered = text.lower()
    spans: set[tuple[int, int]] = set()
    for word in _HINTS:
        i = lowered.find(word)
        while i != -1:
            start = lowered.rfind("\n", 0, i) + 1
            end = lowered.find("\n", i)
            if end == -1:
                end = len(lowered)
            spans.add((start, end))
            i = lowered.find(word, end)
    return sorted(spans)


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end == -1 else end


def assignments(text: str) -> list[Assignment]:
    """Every ``KEY = value`` / ``key: value`` / ``getenv("KEY", "value")`` with a secret-ish key.

    Only lines containing a word of a secret-like name are parsed (the cheap pre-filter that
    keeps the scan fast); callers still check :func:`is_secret_key`.
    """
    found: list[Assignment] = []
    for start, end in _lines_with_hints(text):
        # getenv-style defaults need a call on the line; most lines have none.
        patterns = (_ASSIGN, _GETENV) if "(" in text[start:end] else (_ASSIGN,)
        for pattern in patterns:
            stop = end
            if pattern is _GETENV and text[start:end].rstrip().endswith("("):
                stop = _line_end(text, _line_end(text, end + 1) + 1)  # os.getenv(\n KEY,\n value
            for match in pattern.finditer(text, start, stop):
                for group in ("dq", "sq", "bare"):
                    if group in pattern.groupindex and match.group(group) is not None:
                        found.append(
                            Assignment(
                                match.group("key"),
                                match.group(group),
                                match.start(group),
                                match.end(group),
                                group != "bare",
                            )
                        )
                        break
    return found


def names_itself(item: Assignment) -> bool:
    """``PASSWORD = "password"``, ``"API_KEY": "api_key"``: a name for the setting, not a value."""
    return item.value.strip().lower().replace("-", "_") == item.key.lower().replace("-", "_")


def file_assignments(file: SourceFile) -> list[Assignment]:
    """:func:`assignments` of a file, computed once and shared by the secret rules."""
    cached: list[Assignment] | None = file.memo.get("assignments")
    if cached is None:
        cached = file.memo["assignments"] = assignments(file.text)
    return cached
