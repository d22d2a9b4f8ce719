"""``redundant-deploy-path``: scripts and workflows that deploy besides the one path.

The one path is ``./deploy.sh`` (``sophia deploy``) run by a person or by CI, and GitOps
from CI (a workflow that runs ``helm``/``kubectl`` or the wrapper). Flagged, one finding per
file:

* scripts (shell anywhere; Python at the top level or in script folders) that deploy by
  another method — ``docker stack deploy`` / ``docker service
  create|update``, ``docker compose up`` (on this host or over ``ssh``), ``ssh … docker``,
  ``helm upgrade``/``kubectl apply`` run by hand, PaaS CLIs (``railway up``, ``vercel
  deploy``, ``fly deploy``) — in shell or as argv lists (``["docker", "stack", "deploy"]``);
* scripts named ``deploy``/``deploy_*``/``deploy-*`` (one-off ``deploy_*.py`` variants)
  whatever they run, unless they only call the one path;
* not: ``kubectl apply`` in a script named after secrets (``create-all-secrets.sh``, the
  retired secret flow, not a deploy);
* not: ``docker compose up`` in tests, examples and dev helpers (``tests/``, ``dev/``,
  ``test_*.py``): a laptop stack, not a server deploy (Swarm, ssh or PaaS there still are);
* workflows that deploy by a method other than helm/kubectl/the wrapper (Swarm, compose or
  docker over ssh, PaaS CLIs), or named ``deploy*`` while running none of those.

Comment lines and printed instructions (``echo "run docker compose up"``) are not a method.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from sophia_platform.audit import deploy_signals as sig
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import CorpusRule, RepoContext
from sophia_platform.audit.source import SourceFile

_REPORTED_AS = {
    "one-path": "kubernetes",
    "kubectl-helm": "kubernetes",
    "ssh-docker": "docker",
    "paas": "paas",
}


@dataclass(frozen=True, slots=True)
class DeployFacts:
    """How one workflow or script deploys."""

    methods: tuple[str, ...]
    flagged: bool


class RedundantDeployPathRule(CorpusRule):
    """Deploy entry points besides ./deploy.sh and GitOps from CI."""

    id = "redundant-deploy-path"
    order = 45
    file_level = True
    tags = ("maintainability", "deployment")
    fixed_by_cleanup = True
    needs_whole_repo = False  # each file is judged alone; the corpus half only gathers metrics
    name = "RedundantDeployPath"
    title = "A script or workflow deploys by a method other than ./deploy.sh or GitOps from CI."
    help = (
        "The platform deploys one way: `./deploy.sh deploy <env>` (Helm on K3s through "
        "`sophia deploy`), by a person or from CI. Scripts such as `deploy_swarm.sh` "
        "(`ssh root@host docker stack deploy …`), `deploy_lambda_labs.py` or a workflow "
        "running `docker compose up -d` over ssh are other paths that drift: archive them "
        "with `sophia cleanup apply` and call `./deploy.sh` instead."
    )
    severity = Severity.WARNING

    def wants(self, file: SourceFile) -> bool:
        """Workflows and scripts (``./deploy.sh`` too: its methods count, it is never flagged)."""
        return sig.is_workflow(file.path) or sig.is_script(file.path, file.kind)

    def summarize(self, file: SourceFile) -> DeployFacts | None:
        """Deploy methods of a workflow or script, and whether it is another path."""
        if not self.wants(file):
            return None
        methods = sig.deploy_methods(file.text, python=file.kind == "python")
        workflow = sig.is_workflow(file.path)
        other = set(methods) - (sig.CI_METHODS if workflow else sig.CANONICAL_METHODS)
        name = PurePosixPath(file.path).name.lower()
        named = sig.named_deploy(file.path) or (workflow and "deploy" in name)
        if workflow and sig.about_deploys(file.path):
            named = False  # deploy-status.yml, pre-deploy-checks.yml: about deploys, not one
        if not workflow and sig.is_local(file.path) and not named:
            other &= sig.SERVER_METHODS  # compose up in a test or dev helper is a laptop stack
        if not named and "secret" in name:
            other.discard("kubectl-helm")  # hand-fed Kubernetes secrets: the secret flow's debt
        if workflow:
            # named deploy* but running none: flagged unless its deploy steps only echo
            inert = named and not methods and sig.deploy_steps_inert(file.text)
            flagged = bool(other) or (named and not methods and not inert)
        else:
            flagged = bool(other) or (named and set(methods) != {"one-path"})
        if file.path == "deploy.sh":
            flagged = False  # the one path itself (the wrapper is `exec sophia "$@"`)
            methods = tuple(dict.fromkeys(("one-path", *methods)))
        if not methods and not flagged:
            return None
        return DeployFacts(methods, flagged)

    def judge(
        self, summaries: Sequence[tuple[str, DeployFacts]], ctx: RepoContext
    ) -> Iterator[Finding]:
        """One finding per file that is another deploy path."""
        for path, facts in summaries:
            if not facts.flagged:
                continue
            how = ", ".join(m for m in facts.methods if m != "one-path") or "its own steps"
            yield self.whole_file(
                path,
                f"another deploy path ({how}); deploy with ./deploy.sh deploy <env>",
                {"group": "deploy", "methods": ",".join(facts.methods), "canonical": "deploy.sh"},
            )

    def facts(self, summaries: Sequence[tuple[str, DeployFacts]]) -> dict[str, list[str]]:
        """Deployment methods seen in workflows and scripts (for the summary metrics)."""
        methods: set[str] = set()
        for _, facts in summaries:
            used = set(facts.methods)
            if used & {"docker-swarm", "docker-compose"}:
                used.discard("ssh-docker")  # ssh is how it reaches the host, not the method
            methods.update(_REPORTED_AS.get(m, m) for m in used)
        return {"deploy_methods": sorted(methods)}
