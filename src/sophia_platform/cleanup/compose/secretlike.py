"""Decide whether a compose environment entry holds a secret (then it becomes a reference)."""

from __future__ import annotations

import re

_SECRET_NAME = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|"
    r"CREDENTIALS?|AUTH|DSN|CONNECTION_STRING|SIGNING_KEY|ENCRYPTION_KEY|WEBHOOK_URL)($|_)",
    re.IGNORECASE,
)
_KEY_SUFFIX = re.compile(r"_KEY$", re.IGNORECASE)
_NOT_SECRET_KEY = re.compile(r"(_|^)(PUBLIC|ID|NAME|FILE|PATH|HOST|PORT|URL_PATH)_KEY$", re.I)
_CREDENTIAL_VALUE = re.compile(
    r"^(sk-|sk_live_|ghp_|gho_|github_pat_|xox[bap]-|AKIA|pul-|glpat-)"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY"
)
_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for names like ``OPENAI_API_KEY``, ``DB_PASSWORD``, ``GITHUB_TOKEN``."""
    if _SECRET_NAME.search(name):
        return True
    return bool(_KEY_SUFFIX.search(name)) and not _NOT_SECRET_KEY.search(name)


def is_secret_value(value: str) -> bool:
    """True for values that are credentials whatever their name (known prefixes, URL passwords)."""
    return bool(_CREDENTIAL_VALUE.search(value) or _URL_WITH_PASSWORD.search(value))


def is_secret_entry(name: str, raw_value: str | None, referenced: list[str]) -> bool:
    """An environment entry is secret if its name, its value or a variable it reads says so."""
    if is_secret_name(name):
        return True
    if raw_value is not None and is_secret_value(raw_value):
        return True
    return any(is_secret_name(var) for var in referenced)
