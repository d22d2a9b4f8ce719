"""``docs-retired-deploy``: docs instructing a deploy method the one path replaced.

A finding is one line of a doc that tells the reader to deploy by a retired method, in a code
block, inline code or prose: ``docker stack deploy`` / ``docker service create|update``,
``docker compose up|deploy`` (except under a local-development heading or on a line saying
local/dev: a laptop stack), ``ssh … docker run|compose|…``, hand-run ``kubectl apply|create -f|
replace|set image`` and ``helm upgrade|install``, PaaS CLIs (``railway up``, ``vercel deploy``,
``vercel --prod``, ``fly(ctl) deploy``, ``render deploy``, ``heroku container:release``,
``git push heroku``, ``northflank``).

Not counted: ``./deploy.sh deploy``, ``sophia deploy`` and ``git push`` (the one path);
``kubectl apply`` of Secrets (the secret flow's debt, on the line or the command it
continues); operations that are not deploys (``kubectl rollout restart``, ``kubectl get``,
``docker compose down|logs``); lines that reject, record or search for the command ("no
longer", "instead of", "deprecated", "legacy", "replaced", ❌, strike-through, ``grep``,
``pattern``).
"""

from __future__ import annotations

from collections.abc import Iterator

from sophia_platform.audit import docs_signals as docs
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule, fingerprint, normalise_line
from sophia_platform.audit.source import SourceFile


class DocsRetiredDeployRule(Rule):
    """Docs that instruct a retired deploy method instead of ./deploy.sh or git push."""

    id = "docs-retired-deploy"
    order = 81
    tags = ("maintainability", "documentation", "deployment")
    name = "DocsRetiredDeploy"
    title = "A doc instructs a retired deploy method instead of ./deploy.sh or git push."
    help = (
        "The deployment guide should point to Kubernetes through the one path only: "
        "`./deploy.sh deploy <env>` (Helm on K3s) or a `git push` that GitOps rolls out. "
        "Docs that still say `docker stack deploy`, `docker-compose up -d` on a server, "
        "`ssh host docker run`, `kubectl apply -f` by hand or `vercel --prod` send people down "
        "a path that drifts. Replace the step with `./deploy.sh deploy <env>`. Prose is not "
        "rewritten automatically."
    )
    severity = Severity.WARNING
    kinds = docs.DOC_KINDS
    manual_step = "replace the step with `./deploy.sh deploy <env>` (or a git push for GitOps)"

    def check(self, file: SourceFile) -> Iterator[Finding]:
        """One finding per line instructing a retired method."""
        for item in docs.deploy_instructions(file):
            if item.method not in docs.RETIRED:
                continue
            if item.method in docs.SERVER_ONLY and item.environment == "local":
                continue
            yield Finding(
                rule_id=self.id,
                path=file.path,
                line=item.line,
                column=item.column,
                end_line=item.line,
                end_column=item.end_column,
                message=f"retired deploy method ({item.command.strip()}); use ./deploy.sh deploy",
                severity=self.severity,
                fingerprint=fingerprint(
                    self.id, file.path, normalise_line(file.line_text(item.line))
                ),
                data={
                    "method": item.method,
                    "command": item.command.strip(),
                    "environment": item.environment,
                },
            )
