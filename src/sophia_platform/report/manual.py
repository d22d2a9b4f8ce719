"""Manual steps a repository still asks of people, found per file (so history can cache them).

Two of the three parts of the "manual steps" proxy come from files:

* a **documented manual command**: a line of documentation (``.md``, ``.rst``, ``.txt``,
  ``.adoc``) that tells a person to deploy or move secrets by hand — ``ssh``/``scp`` to a host,
  ``kubectl apply|create|edit|patch|scale|set``, ``helm install|upgrade|rollback``,
  ``docker stack deploy``, ``docker service create|update``, ``docker compose … up``,
  ``pulumi env set``, ``esc env set``, ``pulumi config set``, ``gh secret set``, the k3s
  installer. Lines that use the one path (``sophia …``, ``./deploy.sh …``, ``git push``) never
  count;
* a **dispatch-only deploy workflow**: a GitHub workflow that deploys but runs only when
  someone presses "Run workflow" (its only trigger is ``workflow_dispatch``).

The third part, secrets set by hand outside the flow, is read from the cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_MANUAL = re.compile(
    r"\b(?:ssh|scp)\s+(?:-\S+\s+)*\S*@?\S+"
    r"|\bkubectl\s+(?:apply|create|edit|patch|scale|set|label|delete|rollout\s+restart)\b"
    r"|\bhelm\s+(?:install|upgrade|rollback|uninstall)\b"
    r"|\bdocker\s+stack\s+deploy\b|\bdocker\s+service\s+(?:create|update)\b"
    r"|\bdocker(?:-compose|\s+compose)\b[^\n]*\bup\b"
    r"|\b(?:pulumi|esc)\s+env\s+set\b|\bpulumi\s+config\s+set\b|\bgh\s+secret\s+set\b"
    r"|\bget\.k3s\.io\b"
)
_ONE_PATH = re.compile(r"(?:^|[\s`$])(?:sophia\s|\./deploy\.sh\b|git\s+push\b)")
_DEPLOYS = re.compile(
    r"\bhelm\s+(?:upgrade|install)\b|\bkubectl\s+apply\b|\bdocker\s+stack\s+deploy\b"
    r"|\bdocker(?:-compose|\s+compose)\b[^\n]*\bup\b|(?:\bsophia|\./deploy\.sh)\s+deploy\b"
)
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc")
WORKFLOW_DIR = ".github/workflows/"


@dataclass(frozen=True, slots=True)
class ManualFacts:
    """What one file asks people to do by hand."""

    commands: tuple[tuple[int, str], ...] = ()  # (1-based line, the command as written)
    dispatch_only_deploy: bool = False

    @property
    def count(self) -> int:
        """Manual steps this file contributes."""
        return len(self.commands) + int(self.dispatch_only_deploy)


NONE = ManualFacts()


def is_workflow(path: str) -> bool:
    """Whether ``path`` is a GitHub Actions workflow."""
    return path.startswith(WORKFLOW_DIR) and path.endswith((".yml", ".yaml"))


def relevant(path: str) -> bool:
    """Whether :func:`manual_facts` can find anything in this file (decided by name only)."""
    return path.lower().endswith(_DOC_SUFFIXES) or is_workflow(path)


def manual_facts(path: str, text: str) -> ManualFacts:
    """The manual steps in one file's text."""
    if is_workflow(path):
        return ManualFacts(
            dispatch_only_deploy=_dispatch_only(text) and bool(_DEPLOYS.search(text))
        )
    if not path.lower().endswith(_DOC_SUFFIXES):
        return NONE
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        match = _MANUAL.search(line)
        if match and not _ONE_PATH.search(line):
            found.append((number, match.group(0)[:80]))
    return ManualFacts(commands=tuple(found)) if found else NONE


def _dispatch_only(text: str) -> bool:
    import yaml  # deferred: only workflows need it

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    if not isinstance(doc, dict):
        return False
    # YAML 1.1 reads the bare key `on` as the boolean True.
    triggers: Any = doc.get("on", doc.get(True))
    if isinstance(triggers, str):
        names = {triggers}
    elif isinstance(triggers, list | dict):
        names = {str(t) for t in triggers}
    else:
        return False
    return names == {"workflow_dispatch"}
