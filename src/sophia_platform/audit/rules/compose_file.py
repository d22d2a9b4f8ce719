"""``compose-file``: a docker-compose / compose / Swarm stack file (one finding per file)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule
from sophia_platform.audit.source import SourceFile

_NAMED = re.compile(
    r"^(?:(?:docker-)?compose(?:[.\-_].*)?|.*[.\-_]compose|docker-stack.*|stack(?:[.\-_].*)?|"
    r".*[.\-_]stack)\.ya?ml$",
    re.IGNORECASE,
)
_SERVICES = re.compile(r"(?m)^services[ \t]*:[ \t]*(?:#.*)?$")
_SERVICE_KEYS = re.compile(r"(?m)^[ \t]+(?:image|build)[ \t]*:")
_NOT_COMPOSE = re.compile(r"(?m)^(?:apiVersion|kind|jobs|on|\"on\"|project|environments)[ \t]*:")
_TOP_KEY = re.compile(r"(?m)^([A-Za-z_][\w.\-]*)[ \t]*:")
_SPEC_NAMES = frozenset({"sophia.yaml", "sophia.yml", "chart.yaml"})


_COMPOSE_NAME = re.compile(r"^(?:docker-)?compose[^/]*\.ya?ml$", re.IGNORECASE)


def is_compose(file: SourceFile) -> bool:
    """True for a compose or stack file (the policy's compose-file rule).

    * named ``docker-compose*.y(a)ml`` / ``compose*.y(a)ml``: always, empty stubs included;
    * named like a stack (``docker-stack.yml``, ``*-stack.yml``, ``*.compose.yml``) with a
      top-level ``services:``;
    * any other YAML whose top-level ``services:`` entries have ``image:`` or ``build:``,
      unless it is a Kubernetes manifest, a workflow, or a sophia/Helm file.
    """
    name = file.name.lower()
    if file.kind != "yaml" or name in _SPEC_NAMES or name.startswith("values"):
        return False
    if _COMPOSE_NAME.match(name):
        return True
    if _SERVICES.search(file.text) is None:
        return False
    if _NOT_COMPOSE.search(file.text):
        return False  # a Kubernetes manifest or a workflow, whatever its name
    return bool(_NAMED.match(name)) or bool(_SERVICE_KEYS.search(file.text))


def service_names(text: str) -> list[str]:
    """Names under the top-level ``services:`` key (indentation-based, no full parse)."""
    match = _SERVICES.search(text)
    if match is None:
        return []
    names: list[str] = []
    indent: str | None = None
    for line in text[match.end() :].split("\n")[1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            break  # next top-level key
        stripped = line.lstrip()
        this_indent = line[: len(line) - len(stripped)]
        if indent is None:
            indent = this_indent
        if this_indent == indent:
            key = _TOP_KEY.match(stripped)
            if key:
                names.append(key.group(1))
    return names


class ComposeFileRule(Rule):
    """Compose files: a deployment method the platform retires in favour of sophia.yaml."""

    id = "compose-file"
    order = 20
    file_level = True
    tags = ("maintainability", "deployment")
    fixed_by_cleanup = True
    name = "ComposeFile"
    title = "A docker-compose (or Swarm stack) file is part of the repository."
    help = (
        "Services are described once, in `sophia.yaml`, and deployed with Helm. Convert this file "
        "with `sophia migrate compose FILE` and archive it with `sophia cleanup apply`."
    )
    severity = Severity.WARNING
    kinds = frozenset({"yaml"})

    def check(self, file: SourceFile) -> Iterator[Finding]:
        """Flag the file when it is a compose file."""
        if not is_compose(file):
            return
        names = service_names(file.text)
        flavour = "stack" if "stack" in file.name.lower() else "compose"
        label = "Swarm stack" if flavour == "stack" else "docker-compose"
        yield self.whole_file(
            file.path,
            f"{label} file with {len(names)} service(s); migrate it into sophia.yaml",
            {"services": ",".join(names), "flavour": flavour},
        )
