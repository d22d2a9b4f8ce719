"""``docs-conflicting-deploy``: deploy instructions that contradict each other.

A finding is one line of a doc instructing a deploy (the lines ``docs-retired-deploy`` reads,
plus the one path ``./deploy.sh deploy`` / ``sophia deploy``) whose environment is told to
deploy by two or more different methods across the repository's docs. Methods are told apart
with their tool: Swarm, compose, ssh + docker, kubectl by hand, helm by hand, each PaaS CLI,
the one path. The environment is the one the line names (``prod``/``production``, ``staging``,
``--prod``, ``app-staging``), else the one of its nearest heading, else ``unspecified`` (the
docs' default target). Local development (``local``, ``dev``, ``development`` on the line or
heading) is left out: a laptop stack contradicts no deployment.

Flagged in a conflicting environment: every instruction except the one path's (when the docs
also say ``./deploy.sh deploy production``, only the other lines are wrong). One method for an
environment, however often repeated, is not a conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from sophia_platform.audit import docs_signals as docs
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import CorpusRule, RepoContext, fingerprint
from sophia_platform.audit.source import SourceFile

_ONE_PATH = "one-path"


class DocsConflictingDeployRule(CorpusRule):
    """Docs that tell one environment to deploy in two different ways."""

    id = "docs-conflicting-deploy"
    order = 82
    tags = ("maintainability", "documentation", "deployment")
    name = "DocsConflictingDeploy"
    title = "Docs give contradicting deploy instructions for the same environment."
    help = (
        "One environment deploys one way. When one guide says `docker-compose up -d` for "
        "production and another `kubectl apply -f k8s/` (or `flyctl deploy`), people follow "
        "whichever they read first. Keep one instruction, `./deploy.sh deploy <env>`, and "
        "remove the others. Prose is not rewritten automatically."
    )
    severity = Severity.WARNING
    manual_step = "keep one deploy instruction per environment (`./deploy.sh deploy <env>`)"

    def summarize(self, file: SourceFile) -> tuple[docs.Instruction, ...] | None:
        """A doc's deploy instructions outside local development."""
        if file.kind not in docs.DOC_KINDS:
            return None
        found = tuple(i for i in docs.deploy_instructions(file) if i.environment != "local")
        return found or None

    def judge(
        self, summaries: Sequence[tuple[str, tuple[docs.Instruction, ...]]], ctx: RepoContext
    ) -> Iterator[Finding]:
        """Every non-canonical instruction of an environment told two or more methods."""
        by_env: dict[str, list[tuple[str, docs.Instruction]]] = defaultdict(list)
        for path, found in summaries:
            for item in found:
                by_env[item.environment].append((path, item))
        for env, told in sorted(by_env.items()):
            first: dict[str, tuple[str, int]] = {}
            for path, item in told:
                first.setdefault(item.variant, (path, item.line))
            if len(first) < 2:
                continue
            for path, item in told:
                if item.method == _ONE_PATH:
                    continue
                others = [v for v in first if v != item.variant]
                where = ", ".join(f"{v} at {first[v][0]}:{first[v][1]}" for v in others[:3])
                yield Finding(
                    rule_id=self.id,
                    path=path,
                    line=item.line,
                    column=item.column,
                    end_line=item.line,
                    end_column=item.end_column,
                    message=f"{env} deploy by {item.variant} here, but docs also say {where}",
                    severity=self.severity,
                    fingerprint=fingerprint(self.id, path, env, item.variant, item.command),
                    data={
                        "environment": env,
                        "method": item.variant,
                        "others": ",".join(others),
                    },
                )
