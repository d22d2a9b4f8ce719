"""``placeholder-secret``: a secret-like key set to a placeholder (``changeme``, ``<token>``)."""

from __future__ import annotations

from collections.abc import Iterator

from sophia_platform.audit.assignments import file_assignments
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule
from sophia_platform.audit.secret_names import is_secret_key
from sophia_platform.audit.secret_values import is_placeholder
from sophia_platform.audit.source import SourceFile


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
    kinds = frozenset({"env", "yaml", "json", "toml", "python"})

    def check(self, file: SourceFile) -> Iterator[Finding]:
        """Find placeholder assignments to secret-like keys."""
        seen: set[int] = set()
        for item in file_assignments(file):
            if item.start in seen or not is_secret_key(item.key) or not is_placeholder(item.value):
                continue
            if file.kind == "python" and item.value == "...":
                continue  # Ellipsis: a stub body or annotation, not a value
            seen.add(item.start)
            yield self.at(
                file,
                item.start,
                item.end,
                f"{item.key} is set to a placeholder; declare it in the secrets manifest instead",
                basis=f"{item.key}|{item.value}",
                data={"key": item.key, "kind": file.kind},
            )
