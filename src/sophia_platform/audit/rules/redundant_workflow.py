"""``redundant-workflow``: workflows and scripts that do the same job as another.

Purposes recognised (a file can have several):

* ``secret-sync`` — GitHub Actions workflows and scripts that push secrets into Pulumi ESC
  (``pulumi env set``, ``esc env set``, ESC API writes) from GitHub secrets;
* ``deploy`` — GitHub Actions workflows that deploy (named ``deploy*`` or running
  ``docker stack deploy`` / ``docker compose up`` / ``helm upgrade`` / ``kubectl apply``),
  and scripts that run one of those commands: every deploy path is one member (a script
  that only calls ``sophia deploy`` / ``./deploy.sh deploy`` uses the one path, it is not one).

Each purpose with more than one member is a group; one canonical member is kept (the path
named under ``canonical:`` in ``.sophia-audit.yml``, else one named in ``sophia.yaml``, else
for ``deploy`` one that deploys only to Kubernetes, else the most recently committed, then a
workflow over a script, then the shortest path) and the others are flagged. Workflows whose
lines are at least 85% the same as another workflow's are grouped as ``similar`` too.
"""

from __future__ import annotations

import re
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import CorpusRule, RepoContext
from sophia_platform.audit.rules.duplicate_file import similarity
from sophia_platform.audit.source import SourceFile

SIMILAR_THRESHOLD = 0.85
_ESC_WRITE = re.compile(
    r"\b(?:pulumi|esc)\s+env\s+set\b|\bpulumi\s+config\s+set\s+--secret\b|"
    r"\bupdate_environment_yaml\b|/api/esc/environments/|\bpulumi_esc_sdk\b|\besc\s+env\s+edit\b"
)
_GITHUB_SECRETS = re.compile(
    r"\$\{\{\s*(?:secrets\.|toJSON\(secrets\))|\bgh\s+secret\b|/actions/secrets|GITHUB_TOKEN|"
    r"\bsecrets\.[A-Z_]+|ALL_SECRETS"
)
_DEPLOY_METHODS = {
    "docker-swarm": re.compile(r"\bdocker\s+(?:stack\s+deploy|service\s+(?:create|update))\b"),
    "docker-compose": re.compile(r"\bdocker(?:-compose|\s+compose)\b[^\n]*\bup\b"),
    "kubernetes": re.compile(r"\b(?:helm\s+(?:upgrade|install)|kubectl\s+apply|k3s\s+kubectl)\b"),
    "sophia": re.compile(r"(?:\bsophia|\./deploy\.sh)\s+deploy\b"),
}
# `sophia deploy` (or its `./deploy.sh` wrapper) is Helm on K3s: reported as that method. A
# script that only calls it delegates to the one deploy path and is not another one.
_REPORTED_AS = {"sophia": "kubernetes"}
_DELEGATES = frozenset({"sophia"})
_TARGET_METHODS = frozenset({"kubernetes", "sophia"})
_WORKFLOW_DIR = ".github/workflows/"


@dataclass(frozen=True, slots=True)
class Purpose:
    """What a workflow or script is for."""

    purposes: tuple[str, ...]
    methods: tuple[str, ...]
    workflow: bool
    lines: array[int]


def is_workflow(path: str) -> bool:
    """True for GitHub Actions workflow files."""
    return path.startswith(_WORKFLOW_DIR) and path.endswith((".yml", ".yaml"))


_SCRIPT_DIRS = ("scripts/", "script/", "bin/", "tools/", "deploy/", "ops/", "infra/", ".github/")


def is_script(path: str, kind: str) -> bool:
    """Shell scripts anywhere; Python files at the top level or in script folders."""
    if kind == "shell":
        return True
    return kind == "python" and ("/" not in path or path.startswith(_SCRIPT_DIRS))


def deploy_methods(text: str) -> tuple[str, ...]:
    """Deployment methods a workflow or script uses."""
    if "docker" not in text and "helm" not in text and "kube" not in text and "deploy" not in text:
        return ()
    return tuple(m for m, rx in _DEPLOY_METHODS.items() if rx.search(text))


def purposes_of(path: str, text: str, workflow: bool) -> tuple[str, ...]:
    """The jobs a workflow or script does."""
    found: list[str] = []
    esc = ("pulumi" in text or "esc" in text) and _ESC_WRITE.search(text)
    if esc and (_GITHUB_SECRETS.search(text) or "github" in text.lower()):
        found.append("secret-sync")
    name = PurePosixPath(path).name.lower()
    # A script that runs a deploy command is a deploy path, like a deploy workflow.
    if set(deploy_methods(text)) - _DELEGATES or (workflow and "deploy" in name):
        found.append("deploy")
    return tuple(found)


class RedundantWorkflowRule(CorpusRule):
    """Several workflows doing one job disagree and drift; keep one."""

    id = "redundant-workflow"
    order = 40
    file_level = True
    tags = ("maintainability", "ci", "secrets")
    fixed_by_cleanup = True
    name = "RedundantWorkflow"
    title = "A workflow or script does the same job as another one."
    help = (
        "Keep one workflow per job. Secrets flow GitHub → Pulumi ESC → Kubernetes through "
        "`sophia secrets sync`; deploys go through `sophia deploy`. Archive the redundant "
        "copies with `sophia cleanup apply`, or name the one to keep under `canonical:` in "
        "`.sophia-audit.yml`."
    )
    severity = Severity.WARNING

    def wants(self, file: SourceFile) -> bool:
        """Workflows and scripts only."""
        return is_workflow(file.path) or is_script(file.path, file.kind)

    def summarize(self, file: SourceFile) -> Purpose | None:
        """Purposes and deploy methods of a workflow or script."""
        if not self.wants(file):
            return None
        workflow = is_workflow(file.path)
        purposes = purposes_of(file.path, file.text, workflow)
        methods = deploy_methods(file.text)
        if not purposes and not methods and not workflow:
            return None
        lines = array("I", [])
        if workflow:
            lines = array("I", (zlib.crc32(s.encode()) for ln in file.lines if (s := ln.strip())))
        return Purpose(purposes, methods, workflow, lines)

    def judge(
        self, summaries: Sequence[tuple[str, Purpose]], ctx: RepoContext
    ) -> Iterator[Finding]:
        """Group members by purpose and flag all but the canonical one."""
        groups: dict[str, list[str]] = defaultdict(list)
        info = dict(summaries)
        for path, summary in summaries:
            for purpose in summary.purposes:
                groups[purpose].append(path)
        flagged: set[str] = set()
        for purpose, members in sorted(groups.items()):
            if len(members) > 1:
                yield from self._flag(purpose, members, info, ctx, flagged)
        workflows = [p for p, s in summaries if s.workflow and p not in flagged]
        for i, first in enumerate(workflows):
            similar = [first] + [
                other
                for other in workflows[i + 1 :]
                if other not in flagged
                and similarity(info[first].lines, info[other].lines) >= SIMILAR_THRESHOLD
            ]
            if len(similar) > 1 and first not in flagged:
                yield from self._flag("similar", similar, info, ctx, flagged)

    def facts(self, summaries: Sequence[tuple[str, Purpose]]) -> dict[str, list[str]]:
        """Deployment methods and secret-sync members seen in workflows and scripts."""
        methods = sorted({_REPORTED_AS.get(m, m) for _, s in summaries for m in s.methods})
        sync = sorted(p for p, s in summaries if "secret-sync" in s.purposes)
        return {"deploy_methods": methods, "secret_sync": sync}

    def _flag(
        self,
        purpose: str,
        members: list[str],
        info: dict[str, Purpose],
        ctx: RepoContext,
        flagged: set[str],
    ) -> Iterator[Finding]:
        canonical = self._canonical(purpose, members, info, ctx)
        everyone = ",".join(sorted(members))
        for path in sorted(members):
            if path == canonical or path in flagged:
                continue
            flagged.add(path)
            yield self.whole_file(
                path,
                f"{len(members)} files do '{purpose}' ({everyone}); keep {canonical}",
                {"group": purpose, "canonical": canonical, "members": everyone},
            )

    @staticmethod
    def _canonical(
        purpose: str, members: list[str], info: dict[str, Purpose], ctx: RepoContext
    ) -> str:
        preferred = ctx.canonical.get(purpose)
        if preferred is not None and preferred in members:
            return preferred
        named = [m for m in members if m in ctx.spec_text]
        if named:
            members = named  # sophia.yaml names the one to keep (e.g. its secrets workflow)
        if purpose == "deploy":
            # Keep the path onto the new platform, not the newest Swarm or compose script.
            target = [
                m for m in members if info[m].methods and set(info[m].methods) <= _TARGET_METHODS
            ]
            members = target or members
        times = ctx.commit_times(members)
        return min(
            members,
            key=lambda p: (-times.get(p, 0), not info[p].workflow, len(p), p),
        )
