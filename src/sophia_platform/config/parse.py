"""Turn config strings into typed values; failures say the expected type, never the value."""

from __future__ import annotations

from collections.abc import Collection

_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off"})


def parse_bool(text: str) -> bool | None:
    """Return True/False for the usual spellings (true/false, 1/0, yes/no, on/off), else None."""
    folded = text.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def parse_int(text: str) -> int | None:
    """Return the integer written in ``text`` (underscores allowed), else None."""
    try:
        return int(text.strip())
    except ValueError:
        return None


def is_url(text: str, schemes: Collection[str] | None = None) -> bool:
    """Return True when ``text`` is an absolute URL (a host, or a path for file-like schemes)."""
    import urllib.parse  # lazily: it pulls in ipaddress, and most apps never call get_url

    try:
        parts = urllib.parse.urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if not parts.scheme or (schemes is not None and parts.scheme.lower() not in schemes):
        return False
    return bool(parts.netloc) or (parts.scheme in ("sqlite", "file", "unix") and bool(parts.path))
