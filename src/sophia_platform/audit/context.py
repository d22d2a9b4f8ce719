"""Reading the surroundings of a match: the key it is assigned to, and version-like contexts."""

from __future__ import annotations

import re

# The last `name <sep> [quote|scheme|user@]` before a match: `REDIS_HOST = "`, `url: http://`,
# `os.getenv("DB_HOST", "`, `"host": "`, `--host=`.
_KEY_BEFORE = re.compile(
    r"""([A-Za-z_][A-Za-z0-9_.\-]*)["']?\]?\s*(?::=|=>|==|=|:|,)\s*["'`\[(]?"""
    r"""(?:[a-z][a-z0-9+.\-]*://)?(?:[^\s"'@/]*@)?$"""
)
_FLAG_BEFORE = re.compile(r"--?([A-Za-z][A-Za-z0-9\-_]*)[ =]$")


# The characters a _KEY_BEFORE match can end with (a separator, a quote or bracket, the
# scheme's "/", the user's "@"; whitespace too): a prefix ending otherwise cannot match, and
# the pattern, anchored at the end, would be tried from each of up to 100 starting points.
_KEY_BEFORE_LAST = frozenset(":=>,\"'`[(/@")


def key_before(prefix: str) -> str:
    """The name the value right after ``prefix`` is assigned to ("" when there is none)."""
    last = prefix[-1:]
    if not last or not (last in _KEY_BEFORE_LAST or last.isspace()):
        return ""  # neither pattern can match: each ends with one of these (or " ", "=")
    match = _KEY_BEFORE.search(prefix[-100:])
    if match:
        return match.group(1)
    if last not in " =\n":  # `$` also matches before a final newline
        return ""
    match = _FLAG_BEFORE.search(prefix[-80:])
    return match.group(1) if match else ""


# Words after which a dotted quad is a version: "version 1.2.3.4", "CUDA 12.4.1.1".
_VERSION_WORD = re.compile(
    r"(?i)(?:\bversion\b|\bver\.?|\brelease\b|\bv\.|\bcuda\b|\bdriver\b|\bpython\b|\bnodejs\b"
    r"|\bkernel\b|\bubuntu\b|\bdebian\b|\bjdk\b|\bjava\b|\bchrome\b|\bfirmware\b"
    r"|\bupgrade to\b|\bdowngrade to\b|\bpinned to\b)[ \t=:v-]{0,3}$"
)


def is_versionish_key(key: str) -> bool:
    """True for names like ``version``, ``APP_VERSION``, ``image_tag``, ``release``."""
    lowered = key.lower().replace("-", "_").strip("_")
    if lowered.endswith(("version", "_ver", "release", "revision", "_tag", "_build", "oid")):
        return True
    return lowered in {"ver", "v", "tag", "build", "rev", "sdk", "semver", "firmware"}


def has_version_word_before(prefix: str) -> bool:
    """True when words like "version"/"release"/"v." sit just before the match on its line."""
    return _VERSION_WORD.search(prefix[-40:]) is not None


_YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?[\"']?([A-Za-z_][\w.\-]*)[\"']?\s*:")
_TABLE_ROW = re.compile(r"^\s*\|\s*([^|]+?)\s*\|")


def yaml_parents(lines: list[str], line: int) -> list[str]:
    """Keys enclosing 1-based ``line`` of a YAML text, outermost first (indentation-based)."""
    current = lines[line - 1]
    indent = len(current) - len(current.lstrip())
    parents: list[str] = []
    for text in reversed(lines[: line - 1]):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        this_indent = len(text) - len(text.lstrip())
        if this_indent >= indent:
            continue
        match = _YAML_KEY.match(text)
        if match:
            parents.append(match.group(2))
        indent = this_indent
        if indent == 0:
            break
    return parents[::-1]


def usage_context(kind: str, lines: list[str], line: int, key: str) -> str:
    """A dotted name for where a value is used: ``redis.host`` in YAML, the row in a table."""
    if kind == "yaml":
        return ".".join([*yaml_parents(lines, line), *([key] if key else [])])
    if not key and kind == "docs":
        row = _TABLE_ROW.match(lines[line - 1])
        if row:
            return row.group(1).strip("` ")
    return key
