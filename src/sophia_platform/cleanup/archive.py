"""Which files go to ``archive/`` (compose, Swarm, redundant workflows, copies) and its README."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from sophia_platform.cleanup.findings import FindingLike

ARCHIVE_DIR = "archive"
README = f"{ARCHIVE_DIR}/README.md"
_SWARM_SUFFIXES = frozenset({".yml", ".yaml"})
_ROW = "| `"
DUPLICATE_OF = "duplicate of"

_HEADER = """\
# Archive

Files moved here by `sophia cleanup apply` with `git mv`, so `git log --follow FILE` still shows
their history. Nothing runs them any more: the platform deploys one way, `sophia deploy` (Helm on
K3s) from `sophia.yaml`; compose services were converted with `sophia migrate compose`; GitHub
only runs workflows under `.github/workflows/` at the repository root.

| Archived file | Was | Why |
| --- | --- | --- |
"""


def archive_reasons(findings: Sequence[FindingLike]) -> dict[str, list[str]]:
    """Path → reasons to archive it (other files with findings are rewritten, not archived)."""
    reasons: dict[str, list[str]] = {}
    for finding in findings:
        reason = _reason(finding)
        if reason is not None and reason not in reasons.setdefault(finding.path, []):
            reasons[finding.path].append(reason)
    return reasons


def _reason(finding: FindingLike) -> str | None:
    data = finding.data
    if finding.rule_id == "compose-file":
        services = data.get("services", "")
        flavour = "Swarm stack file" if data.get("flavour") == "stack" else "docker-compose file"
        return f"{flavour}" + (f" (services: {services})" if services else "")
    if finding.rule_id == "redundant-deploy-path":
        how = data.get("methods", "") or "its own steps"
        return f"another deploy path ({how}) besides `./deploy.sh`"
    if finding.rule_id == "redundant-workflow":
        canonical = data.get("canonical", "")
        if not canonical or canonical == finding.path:
            return None
        return f"does the same job ({data.get('group', 'same purpose')}) as `{canonical}`"
    if finding.rule_id == "duplicate-file":
        canonical = data.get("canonical", "")
        if not canonical or canonical == finding.path:
            return None
        near = data.get("exact") == "false" and data.get("similarity")
        how = f" ({float(near):.0%} of its lines)" if near else ""
        return f"{DUPLICATE_OF} `{canonical}`{how}"
    if finding.rule_id == "swarm-reference":
        pure = PurePosixPath(finding.path)
        # A YAML file that uses Swarm is a stack file; a file named after Swarm (a runbook,
        # swarm-init.sh) is about nothing else. A script that deploys with Swarm is archived
        # through its redundant-deploy-path finding; in other files
        # the Swarm command is rewritten to the one deploy path (rewriters/, deploy_commands).
        if pure.suffix.lower() not in _SWARM_SUFFIXES and "swarm" not in pure.name.lower():
            return None
        return f"Docker Swarm ({data.get('construct', 'swarm')})"
    return None


def target_of(path: str) -> str:
    """Where an archived file goes."""
    return f"{ARCHIVE_DIR}/{path}"


def readme(existing: str | None, moves: Iterable[tuple[str, str, list[str]]]) -> str:
    """The archive README: earlier rows kept, new rows added, sorted by archived path."""
    rows = {line for line in (existing or "").splitlines() if line.startswith(_ROW)}
    for source, target, reasons in moves:
        why = "; ".join(r.replace("|", "\\|") for r in reasons)
        rows.add(f"| `{target}` | `{source}` | {why} |")
    return _HEADER + "".join(f"{row}\n" for row in sorted(rows))
