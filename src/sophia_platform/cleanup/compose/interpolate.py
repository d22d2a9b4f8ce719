"""Compose-spec variable interpolation: ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and friends.

Implements the forms of the compose specification (``-``, ``:-``, ``?``, ``:?``, ``+``, ``:+``,
nested defaults, ``$$`` escapes). Variables come from an explicit mapping — the ``.env`` file next
to the compose file — never from the process environment: a migration must give the same spec
on every machine, and the shell of whoever runs it may hold real secret values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


@dataclass
class Interpolation:
    """The interpolated text and the variables it read (``missing`` were unset, no default)."""

    text: str
    referenced: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def references(text: str) -> list[str]:
    """Names of the variables a string refers to, in order (no values needed)."""
    return interpolate(text, {}).referenced


def interpolate(text: str, variables: Mapping[str, str]) -> Interpolation:
    """Expand every variable reference of ``text`` using ``variables``."""
    result = Interpolation(text="")
    result.text = _expand(text, variables, result)
    return result


def _expand(text: str, variables: Mapping[str, str], out: Interpolation) -> str:
    parts: list[str] = []
    i = 0
    while i < len(text):
        dollar = text.find("$", i)
        if dollar < 0:
            parts.append(text[i:])
            break
        parts.append(text[i:dollar])
        nxt = text[dollar + 1 : dollar + 2]
        if nxt == "$":
            parts.append("$")
            i = dollar + 2
        elif nxt == "{":
            end = _closing_brace(text, dollar + 2)
            if end < 0:
                out.errors.append(f"unterminated ${{ in {text!r}")
                parts.append(text[dollar:])
                break
            parts.append(_braced(text[dollar + 2 : end], variables, out))
            i = end + 1
        else:
            match = _NAME.match(text, dollar + 1)
            if match is None:
                parts.append("$")
                i = dollar + 1
            else:
                parts.append(_lookup(match.group(0), variables, out))
                i = match.end()
    return "".join(parts)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for pos in range(start, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos
    return -1


def _lookup(name: str, variables: Mapping[str, str], out: Interpolation) -> str:
    out.referenced.append(name)
    if name in variables:
        return variables[name]
    out.missing.append(name)
    return ""


def _braced(inner: str, variables: Mapping[str, str], out: Interpolation) -> str:
    match = _NAME.match(inner)
    if match is None:
        out.errors.append(f"invalid variable reference ${{{inner}}}")
        return ""
    name = match.group(0)
    rest = inner[match.end() :]
    out.referenced.append(name)
    if not rest:
        if name in variables:
            return variables[name]
        out.missing.append(name)
        return ""
    op = next((o for o in _OPERATORS if rest.startswith(o)), None)
    if op is None:
        out.errors.append(f"invalid variable reference ${{{inner}}}")
        return ""
    arg = rest[len(op) :]
    is_set = name in variables
    is_nonempty = is_set and variables[name] != ""
    present = is_nonempty if op.startswith(":") else is_set
    if op in (":-", "-"):
        return variables[name] if present else _expand(arg, variables, out)
    if op in (":+", "+"):
        return _expand(arg, variables, out) if present else ""
    if not present:  # ":?" / "?": a required variable
        out.errors.append(f"required variable {name} is not set: {arg or 'no message'}")
        return ""
    return variables[name]


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file (``KEY=VALUE``, quotes, ``export``, comments); missing → empty."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return parse_dotenv(text)


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse dotenv text into a mapping; malformed lines are ignored as compose does."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            continue
        values[key] = _dotenv_value(value.strip())
    return values


def _dotenv_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        return inner.replace("\\n", "\n") if value[0] == '"' else inner
    hash_at = value.find(" #")
    return value[:hash_at].rstrip() if hash_at >= 0 else value
