"""Config keys: one canonical spelling per setting, and the spellings each layer knows.

A key is given either as a name (``OPENAI_API_KEY``, ``openai_api_key``, ``openai-api-key``:
all the same setting, canonical ``OPENAI_API_KEY``) or as an ESC path (``snowflake.account``,
``llm.keys[0]``), which ESC looks up as written and the name-based layers as ``SNOWFLAKE_ACCOUNT``.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]*")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


class Key:
    """A parsed key: canonical ``name``, its ``lower`` spelling, and ``path`` when given as one."""

    __slots__ = ("lower", "name", "path")

    def __init__(self, name: str, path: str | None = None) -> None:
        self.name = name
        self.lower = name.lower()
        self.path = path

    @property
    def spellings(self) -> tuple[str, str]:
        """The two names files and environment variables may use: ``NAME`` and ``name``."""
        return (self.name, self.lower)

    def __repr__(self) -> str:
        return f"Key({self.name!r})" if self.path is None else f"Key({self.name!r}, {self.path!r})"


def parse_key(raw: str) -> Key:
    """Parse a key as callers write it; raise ValueError for anything that is not a name or path."""
    text = raw.strip() if isinstance(raw, str) else ""
    if _NAME.fullmatch(text):
        return Key(text.replace("-", "_").upper())
    if _PATH.fullmatch(text) and not text.endswith("."):
        return Key(_NON_ALNUM.sub("_", text).strip("_").upper(), text)
    raise ValueError(f"invalid config key {raw!r}: use a NAME like OPENAI_API_KEY or a path a.b[0]")
