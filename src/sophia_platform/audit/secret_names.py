"""Which setting names hold credentials: ``OPENAI_API_KEY`` yes, ``primary_key`` no."""

from __future__ import annotations

import re
from functools import lru_cache

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SECRET_LAST = frozenset(
    {
        "key", "token", "secret", "password", "passwd", "pwd", "pass", "passphrase",
        "credential", "credentials", "apikey", "secretkey", "accesskey", "privatekey", "pat",
    }
)  # fmt: skip
SECRET_LAST_WORDS = _SECRET_LAST
"""Words that make a name a credential when they end it (``…_KEY``, ``…_TOKEN``, ``…_PAT``)."""
_NOT_SECRET_BEFORE_KEY = frozenset(
    {
        "primary", "foreign", "sort", "partition", "cache", "public", "idempotency", "dedup",
        "lookup", "unique", "hash", "row", "map", "dict", "object", "s3", "redis", "ssh",
        "kubernetes", "k8s", "esc", "github", "env", "config", "next", "page",
    }
)  # fmt: skip
# A bare ``key:`` / ``pass:`` is a selector or a flag; a bare ``token:`` / ``secret:`` holds one.
_NOT_SECRET_NAMES = frozenset({"key", "pass", "tokens", "keys", "secrets"})
_NOT_SECRET_WORDS = frozenset(
    {"name", "names", "path", "file", "url", "uri", "id", "ref", "env", "var", "type", "length",
     "len", "count", "header", "field", "prefix", "format", "policy", "endpoint", "expiry",
     "expires", "ttl", "store", "manager", "provider", "hint", "reset", "min", "max", "regex",
     "pattern", "label", "prompt", "placeholder", "rules", "strength", "hash", "algorithm",
     "version", "mode", "enabled", "required", "dir", "location", "template", "validator",
     "here", "group", "groups"}
)  # fmt: skip


_PASCAL = re.compile(r"^[A-Z][a-z0-9]+[A-Z]")
_SPLIT = re.compile(r"[_.\-\s]+")


def words(name: str) -> list[str]:
    """A name split into lower-case words (snake, kebab, dotted and camel case)."""
    return [w for w in _SPLIT.split(_CAMEL.sub("_", name).lower()) if w]


@lru_cache(maxsize=65536)  # a repository repeats few names millions of times
def is_secret_key(name: str) -> bool:
    """True for names that hold a credential: ``OPENAI_API_KEY``, ``db_password``, ``apiToken``."""
    parts = words(name)
    if not parts or name.lower() in _NOT_SECRET_NAMES or _PASCAL.match(name):
        return False  # PascalCase names are types (SecretValue), not settings
    last = parts[-1]
    if last in _NOT_SECRET_WORDS:
        return False
    if last in _SECRET_LAST:
        if last != "key" or len(parts) < 2 or "private" in parts:
            return True  # LAMBDA_PRIVATE_SSH_KEY: a private key whatever comes before "key"
        return parts[-2] not in _NOT_SECRET_BEFORE_KEY
    return "password" in parts or ("secret" in parts and last not in _NOT_SECRET_WORDS)
