"""``placeholder-secret``: a secret-like key set to a placeholder (``changeme``, ``<token>``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sophia_platform.audit.assignments import file_assignments, names_itself
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule
from sophia_platform.audit.secret_names import is_secret_key
from sophia_platform.audit.secret_values import (
    base64_text,
    is_placeholder,
    is_reference,
    is_test_fixture,
)
from sophia_platform.audit.source import SourceFile, finditer_in

# scheme://user:password@host — the password part of a connection string.
# The left boundary keeps a long alphanumeric run from being retried at every character.
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^/\s:@'\"]+:(?P<pw>[^/\s@'\"]+)@"
)
_BARE_PASSWORDS = frozenset({"pass", "password", "passwd", "pwd", "secret"})
_FIXTURE_KEY = re.compile(r"(?i)(?:^|[_.\-])(?:dummy|test|mock|fake|sample|example)[_.\-]")
# Test code holds fixtures (the policy leaves them out), wherever its values come from.
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?/|test_[^/]*$|[^/]*_test\.py$|conftest\.py$)")


def placeholder_value(value: str) -> bool:
    """A placeholder, also once base64-decoded (Kubernetes ``data:``); test fixtures are not."""
    decoded = base64_text(value)
    if decoded is not None:
        value = decoded
    return is_placeholder(value) and not is_test_fixture(value)


def placeholder_password(password: str) -> bool:
    """The password of ``user:pass@host``: ``pass``, ``your_password_here``, ``[PASSWORD]``."""
    if is_reference(password) or password.startswith(("$", "{", "%")):
        return False  # an interpolation: f"…:{password}@", "$DB_PASSWORD", "%(pw)s"
    return password.lower() in _BARE_PASSWORDS or placeholder_value(password)


class PlaceholderSecretRule(Rule):
    """Config that pretends to hold a secret: the app starts, then fails at the first call."""

    id = "placeholder-secret"
    order = 70
    tags = ("security", "configuration")
    security_severity = "5.0"
    fixed_by_cleanup = True
    name = "PlaceholderSecret"
    title = "A secret-like setting holds a placeholder value instead of a real secret."
    help = (
        "Placeholders (`changeme`, `your-api-key-here`, `<token>`, `sk-...`) end up deployed. "
        "Remove the value, list the secret in the `secrets:` manifest of `sophia.yaml` and let "
        "`sophia secrets sync` provide it; `sophia cleanup apply` does both."
    )
    severity = Severity.WARNING
    kinds = frozenset({"env", "yaml", "json", "toml", "ini", "python"})

    def check(self, file: SourceFile) -> Iterator[Finding]:
        """Find placeholder assignments to secret-like keys and placeholder URL passwords."""
        if _TEST_PATH.search(file.path):
            return
        seen: set[int] = set()
        for item in file_assignments(file):
            if item.start in seen or not is_secret_key(item.key) or names_itself(item):
                continue
            if _FIXTURE_KEY.search(item.key):
                continue  # dummy_token, test_api_key: named as a fixture, not a setting
            if file.kind == "python" and not item.quoted:
                continue  # a bare value in Python is a name or an expression, not a literal
            if not placeholder_value(item.value):
                continue
            seen.add(item.start)
            yield self.at(
                file,
                item.start,
                item.end,
                f"{item.key} is set to a placeholder; declare it in the secrets manifest instead",
                basis=f"{item.key}|{item.value}",
                data={"key": item.key, "kind": file.kind},
            )
        if not file.has("://"):
            return
        for match in finditer_in(_URL_CREDENTIALS, file.text, file.lines_with("://")):
            if match.start("pw") in seen or not placeholder_password(match.group("pw")):
                continue
            line_start = file.text.rfind("\n", 0, match.start()) + 1
            if file.text[line_start : match.start()].lstrip().startswith(("#", "//")):
                continue  # a comment showing the format, not a setting
            yield self.at(
                file,
                match.start("pw"),
                match.end("pw"),
                "a connection string holds a placeholder password; provide it as a secret",
                basis=f"url|{match.group('pw')}",
                data={"key": "url-password", "kind": file.kind},
            )
