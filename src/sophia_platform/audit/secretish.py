"""Secret-like names, placeholder values and value assignments, shared by the secret rules."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from sophia_platform.audit.source import SourceFile
from sophia_platform.config import is_placeholder as config_is_placeholder

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SECRET_LAST = frozenset(
    {
        "key", "token", "secret", "password", "passwd", "pwd", "pass", "passphrase",
        "credential", "credentials", "apikey", "secretkey", "accesskey", "privatekey", "pat",
    }
)  # fmt: skip
_NOT_SECRET_BEFORE_KEY = frozenset(
    {
        "primary", "foreign", "sort", "partition", "cache", "public", "idempotency", "dedup",
        "lookup", "unique", "hash", "row", "map", "dict", "object", "s3", "redis", "ssh",
        "kubernetes", "k8s", "esc", "github", "env", "config", "next", "page",
    }
)  # fmt: skip
_NOT_SECRET_NAMES = frozenset({"key", "pass", "token", "secret", "tokens", "keys"})
_NOT_SECRET_WORDS = frozenset(
    {"name", "names", "path", "file", "url", "uri", "id", "ref", "env", "var", "type", "length",
     "len", "count", "header", "field", "prefix", "format", "policy", "endpoint", "expiry",
     "expires", "ttl", "store", "manager", "provider", "hint", "reset", "min", "max", "regex",
     "pattern", "label", "prompt", "placeholder", "rules", "strength", "hash", "algorithm",
     "version", "mode", "enabled", "required", "dir", "location", "template", "validator"}
)  # fmt: skip


_PASCAL = re.compile(r"^[A-Z][a-z0-9]+[A-Z]")


def words(name: str) -> list[str]:
    """A name split into lower-case words (snake, kebab, dotted and camel case)."""
    return [w for w in re.split(r"[_.\-\s]+", _CAMEL.sub("_", name).lower()) if w]


def is_secret_key(name: str) -> bool:
    """True for names that hold a credential: ``OPENAI_API_KEY``, ``db_password``, ``apiToken``."""
    parts = words(name)
    if not parts or name.lower() in _NOT_SECRET_NAMES or _PASCAL.match(name):
        return False  # PascalCase names are types (SecretValue), not settings
    last = parts[-1]
    if last in _NOT_SECRET_WORDS:
        return False
    if last in _SECRET_LAST:
        return not (last == "key" and len(parts) > 1 and parts[-2] in _NOT_SECRET_BEFORE_KEY)
    return "password" in parts or ("secret" in parts and last not in _NOT_SECRET_WORDS)


_UNSET = frozenset({"null", "none", "~", "nil", "undefined"})


def is_placeholder(value: str) -> bool:
    """Return True for values that stand in for a secret: ``changeme``, ``<token>``, ``sk-...``.

    Delegates to :func:`sophia_platform.config.is_placeholder` (the product's one definition),
    after setting aside what the audit treats differently: empty or explicitly unset values
    and references such as ``${VAR}``, which point at a secret rather than fake one.
    """
    stripped = value.strip().strip("\"'`")
    if not stripped or stripped.lower() in _UNSET or is_reference(stripped):
        return False
    return config_is_placeholder(stripped)


_REFERENCE = re.compile(r"^(?:\$\{\{?.*\}\}?|\$[A-Za-z_]\w*|\{\{.*\}\}|%\(.*\)s|@Microsoft\..*)$")


def is_reference(value: str) -> bool:
    """True for values that point elsewhere: ``${VAR}``, ``$VAR``, ``${{ secrets.X }}``."""
    return _REFERENCE.match(value.strip()) is not None


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


@dataclass(frozen=True, slots=True)
class Assignment:
    """``key <sep> value`` found in a file, with the value's character span."""

    key: str
    value: str
    start: int
    end: int


# key, an optional closing quote, a separator, then a quoted or bare value on the same line.
_ASSIGN = re.compile(
    r"""(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)["']?"""
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


def assignments(text: str) -> list[Assignment]:
    """Every ``KEY = value`` / ``key: value`` / ``getenv("KEY", "value")`` with a secret-ish key.

    Only lines containing a word of a secret-like name are parsed (the cheap pre-filter that
    keeps the scan fast); callers still check :func:`is_secret_key`.
    """
    found: list[Assignment] = []
    for start, end in _lines_with_hints(text):
        for pattern in (_ASSIGN, _GETENV):
            for match in pattern.finditer(text, start, end):
                for group in ("dq", "sq", "bare"):
                    if group in pattern.groupindex and match.group(group) is not None:
                        found.append(
                            Assignment(
                                match.group("key"),
                                match.group(group),
                                match.start(group),
                                match.end(group),
                            )
                        )
                        break
    return found


def file_assignments(file: SourceFile) -> list[Assignment]:
    """:func:`assignments` of a file, computed once and shared by the secret rules."""
    cached: list[Assignment] | None = file.memo.get("assignments")
    if cached is None:
        cached = file.memo["assignments"] = assignments(file.text)
    return cached
