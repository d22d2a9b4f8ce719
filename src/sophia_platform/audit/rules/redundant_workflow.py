"""``redundant-workflow``: secret-sync workflows and scripts beyond the one canonical sync.

Found by what a file does, not by its name:

* a **workflow** is a sync when it passes GitHub secrets (``${{ secrets.X }}`` beyond the
  platform's own ``GITHUB_TOKEN``/``PULUMI_ACCESS_TOKEN``, or ``toJSON(secrets)``) and writes
  Pulumi ESC, itself (``esc env set``, ``pulumi env set``, ``pulumi config set --secret``,
  the ESC REST API) or through a script it runs that does;
* a **script** is a sync when it writes ESC (the same commands, argv lists such as
  ``["pulumi", "env", "set", ...]``, the REST API, the SDK) and reads GitHub secrets
  (``gh secret list``, the GitHub API's ``/actions/secrets``, "GitHub secrets" in what it
  says it does, ``ALL_SECRETS``), or is run by a workflow that passes GitHub secrets to it.

Deploy workflows and scripts are not syncs, even when they read secrets or write ESC on the
way (they are ``redundant-deploy-path``'s business). One sync is kept: the path named under
``canonical: {secret-sync: ...}`` in ``.sophia-audit.yml``, else
``.github/workflows/sync_secrets_comprehensive.yml``, else one named in ``sophia.yaml``,
else a workflow that works (writes ESC itself or through a script that is present), then the
most recently committed, then the shortest path. Scripts the kept workflow runs are part of
it; every other sync is flagged. A workflow or script that runs a script named after a
sync (``python github_sync.py``) while naming Pulumi is a sync too, even when that script
is gone; so is a workflow passing secrets to a script under a step or workflow name that says
it is the secret sync ("Run unified secret sync"), whatever the script does now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from sophia_platform.audit import deploy_signals as sig
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import CorpusRule, RepoContext
from sophia_platform.audit.source import SourceFile

CANONICAL_SYNC = ".github/workflows/sync_secrets_comprehensive.yml"
GROUP = "secret-sync"


@dataclass(frozen=True, slots=True)
class SyncFacts:
    """What one workflow or script does about secrets."""

    workflow: bool
    writes_esc: bool
    reads_github: bool  # workflow: passes secrets; script: reads GitHub secrets itself
    deploys: bool
    runs: tuple[str, ...]  # script file names a workflow runs
    delegates: bool = False  # runs a script named after a sync (that may be gone)


def _is_deploy(path: str, text: str, workflow: bool) -> bool:
    methods = set(sig.deploy_methods(text)) - {"one-path"}
    name = PurePosixPath(path).name.lower()
    if workflow:
        return bool(methods) or "deploy" in name
    return bool(methods)


class RedundantWorkflowRule(CorpusRule):
    """More than one GitHub → Pulumi ESC secret sync: they drift and fight; keep one."""

    id = "redundant-workflow"
    order = 40
    file_level = True
    tags = ("maintainability", "ci", "secrets")
    fixed_by_cleanup = True
    name = "RedundantWorkflow"
    title = "A workflow or script syncs GitHub secrets into Pulumi ESC besides the canonical sync."
    help = (
        "Secrets flow GitHub → Pulumi ESC → Kubernetes through one sync "
        "(`.github/workflows/sync_secrets_comprehensive.yml`, run by `sophia secrets sync`). "
        "Archive the other sync workflows and scripts with `sophia cleanup apply`, or name the "
        "one to keep under `canonical: {secret-sync: PATH}` in `.sophia-audit.yml`. Example: "
        "`unified-secret-sync.yml` passing `${{ toJSON(secrets) }}` to a script that runs "
        '`["pulumi", "env", "set", ...]`, next to `sync_secrets_comprehensive.yml`.'
    )
    severity = Severity.WARNING

    def wants(self, file: SourceFile) -> bool:
        """Workflows and scripts only."""
        return sig.is_workflow(file.path) or sig.is_script(file.path, file.kind)

    def summarize(self, file: SourceFile) -> SyncFacts | None:
        """What the file does with secrets (None when it touches neither side)."""
        if not self.wants(file):
            return None
        text = file.text
        workflow = sig.is_workflow(file.path)
        if not workflow and sig.is_test(file.path):
            return None  # a test checks a sync (or fakes one); it is not an entry point
        writes = sig.writes_esc(text)
        if workflow:
            reads = sig.workflow_reads_secrets(text)
            runs = sig.scripts_run(text) if reads else ()
            if not reads or (not writes and not runs):
                return None
            # Runs a sync-named script, or a script under a step/workflow named the secret sync
            # (the script may have drifted or gone: the workflow is still a second sync).
            delegates = "pulumi" in text.lower() and (
                sig.runs_sync_script(text) or (bool(runs) and sig.says_secret_sync(text))
            )
        else:
            reads = sig.script_reads_github_secrets(text)
            delegates = reads and "pulumi" in text.lower() and sig.runs_sync_script(text)
            if not writes and not delegates:
                return None
            runs = ()
        deploys = _is_deploy(file.path, text, workflow)
        return SyncFacts(workflow, writes, reads, deploys, runs, delegates)

    def members(self, summaries: Sequence[tuple[str, SyncFacts]]) -> list[str]:
        """Every secret-sync workflow and script, in path order."""
        writers = {
            PurePosixPath(p).name: p for p, s in summaries if not s.workflow and s.writes_esc
        }
        run_by_syncing: set[str] = set()
        syncs: list[str] = []
        for path, facts in summaries:
            if not facts.workflow or facts.deploys:
                continue
            called = [writers[n] for n in facts.runs if n in writers]
            if facts.writes_esc or called or facts.delegates:
                syncs.append(path)
                run_by_syncing.update(called)
        for path, facts in summaries:
            if facts.workflow or facts.deploys:
                continue
            if facts.delegates or (
                facts.writes_esc and (facts.reads_github or path in run_by_syncing)
            ):
                syncs.append(path)
        return sorted(syncs)

    def judge(
        self, summaries: Sequence[tuple[str, SyncFacts]], ctx: RepoContext
    ) -> Iterator[Finding]:
        """Flag every sync but the canonical one (and the scripts it runs)."""
        members = self.members(summaries)
        if len(members) < 2:
            return
        info = dict(summaries)
        canonical = self._canonical(members, info, ctx)
        kept = {canonical}
        writers = {PurePosixPath(p).name: p for p in members if not info[p].workflow}
        kept.update(writers[n] for n in info[canonical].runs if n in writers)
        everyone = ",".join(members)
        for path in members:
            if path in kept:
                continue
            yield self.whole_file(
                path,
                f"{len(members)} files sync GitHub secrets into Pulumi ESC; keep {canonical}",
                {"group": GROUP, "canonical": canonical, "members": everyone},
            )

    def facts(self, summaries: Sequence[tuple[str, SyncFacts]]) -> dict[str, list[str]]:
        """The secret-sync members (for the summary metrics)."""
        return {"secret_sync": self.members(summaries)}

    @staticmethod
    def _canonical(members: list[str], info: dict[str, SyncFacts], ctx: RepoContext) -> str:
        preferred = ctx.canonical.get(GROUP)
        if preferred is not None and preferred in members:
            return preferred
        if CANONICAL_SYNC in members:
            return CANONICAL_SYNC
        named = [m for m in members if m in ctx.spec_text]
        workflows = [m for m in named or members if info[m].workflow] or named or members
        writers = {PurePosixPath(p).name for p in members if info[p].writes_esc}
        times = ctx.commit_times(workflows)

        def works(path: str) -> bool:  # writes ESC itself or through a script that is here
            facts = info[path]
            return facts.writes_esc or any(n in writers for n in facts.runs)

        return min(workflows, key=lambda p: (not works(p), -times.get(p, 0), len(p), p))
