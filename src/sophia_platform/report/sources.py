"""Everything the report reads, each source optional: a missing one is recorded with why.

The sources are the audit of the working tree (always), ``sophia.yaml``, and for one
environment: the cluster (``status``'s own collector), its deploy records and the Secrets in
its namespace, ``secrets check``'s core over the configured layers, and GitOps status when
this build has it. A source that cannot be read leaves ``None`` and a reason; the evaluation
turns that into "unknown (...)" rows, never into zeros.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform import git
from sophia_platform.audit import AuditResult, ScanOptions, scan
from sophia_platform.errors import SophiaError, UsageError
from sophia_platform.report.manual import ManualFacts, manual_facts, relevant
from sophia_platform.report.model import SourceState

if TYPE_CHECKING:
    from sophia_platform.deploy.records import DeployRecord
    from sophia_platform.deploy.status import EnvStatus
    from sophia_platform.secrets.check import CheckReport
    from sophia_platform.spec import Spec

# Helm keeps releases in Secrets; service-account tokens are the cluster's own.
_SYSTEM_SECRET_TYPES = frozenset(
    {"helm.sh/release.v1", "kubernetes.io/service-account-token", "bootstrap.kubernetes.io/token"}
)
MANAGED_BY = "app.kubernetes.io/managed-by"
DOC_TOPIC = re.compile(r"(?i)deploy|secret|kubectl|helm|docker|pulumi|\besc\b|k3s|swarm")


@dataclass
class Cluster:
    """What the cluster says about one environment."""

    status: EnvStatus
    records: list[DeployRecord]
    unmanaged_secrets: list[str]  # Secrets in the namespace not written by `sophia secrets sync`


@dataclass
class Sources:
    """The inputs of one report; ``None`` fields are unknown, ``states`` says why."""

    root: Path
    audit: AuditResult
    manual: dict[str, ManualFacts]
    commit: str | None = None
    spec: Spec | None = None
    env: str | None = None
    cluster: Cluster | None = None
    secrets: CheckReport | None = None
    gitops: GitOps | None = None
    listed: list[str] = field(default_factory=list)  # files the audit read
    topical: set[str] = field(default_factory=set)  # docs and workflows about deploys/secrets
    states: dict[str, SourceState] = field(default_factory=dict)

    def reason(self, name: str) -> str:
        """Why a source is unknown, for an "unknown (...)" row."""
        state = self.states.get(name)
        return state.detail if state is not None else f"no {name} source"

    def note(self, name: str, available: bool, detail: str) -> None:
        """Record whether a source could be read."""
        self.states[name] = SourceState(name=name, available=available, detail=detail)


@dataclass(frozen=True)
class Options:
    """Which sources to read."""

    spec_path: Path | None = None
    env: str | None = None
    kubeconfig: Path | None = None
    cluster: bool = True
    secrets: bool = True


def gather(path: Path, options: Options | None = None) -> Sources:
    """Read every source the report uses (the audit raises; the others are optional)."""
    options = options or Options()
    audit = scan(path, ScanOptions())
    root = audit.root
    src = Sources(root=root, audit=audit, manual={})
    _read_docs(src)
    src.note("audit", True, f"{audit.stats.files_scanned} files scanned")
    src.commit = _head(root)
    _spec(src, options)
    if src.spec is not None:
        src.env = options.env or src.spec.default_environment
        if src.env not in src.spec.environments:
            known = ", ".join(src.spec.environments)
            raise UsageError(f"unknown environment {src.env!r}; sophia.yaml defines: {known}")
        if options.cluster:
            _cluster(src, options)
        else:
            src.note("cluster", False, "not asked (--no-cluster)")
        if options.secrets:
            _secrets(src, options)
        else:
            src.note("secrets", False, "not asked (--no-secrets)")
        _gitops(src, options)
    else:
        for name in ("cluster", "secrets", "gitops"):
            src.note(name, False, "needs a valid sophia.yaml")
    return src


def _read_docs(src: Sources) -> None:
    """List the scanned files once; read docs and workflows for manual steps and topics."""
    skipped = {s.path for s in src.audit.stats.skipped}
    listed = git.ls_files(src.root) if src.audit.stats.git_aware else []
    src.listed = [rel for rel in listed if rel not in skipped]
    for rel in src.listed:
        if not relevant(rel):
            continue
        try:
            text = (src.root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        facts = manual_facts(rel, text)
        if facts.count:
            src.manual[rel] = facts
        if DOC_TOPIC.search(text):
            src.topical.add(rel)


def _head(root: Path) -> str | None:
    if not git.toplevel(root):
        return None
    proc = git.run(["rev-parse", "--verify", "-q", "HEAD"], root, check=False)
    sha = proc.stdout.decode().strip()
    return sha if proc.returncode == 0 and sha else None


def _spec(src: Sources, options: Options) -> None:
    from sophia_platform.spec import load_spec

    path = options.spec_path or src.root / "sophia.yaml"
    if not path.exists():
        src.note("spec", False, f"no sophia.yaml at {path}")
        return
    try:
        src.spec = load_spec(path)
    except SophiaError as e:
        src.note("spec", False, f"sophia.yaml does not validate: {e}")
        return
    src.note("spec", True, f"{len(src.spec.services)} services in {path.name}")


def _cluster(src: Sources, options: Options) -> None:
    from sophia_platform.deploy import records
    from sophia_platform.deploy.status import collect
    from sophia_platform.deploy.target import resolve
    from sophia_platform.kube import raw
    from sophia_platform.kube.client import connect, kubeconfig_path

    assert src.spec is not None
    kubeconfig = kubeconfig_path(options.kubeconfig) or Path.home() / ".kube" / "config"
    if not kubeconfig.exists():  # say so without paying for the kubernetes client's import
        src.note("cluster", False, f"no cluster reachable: no kubeconfig at {kubeconfig}")
        return
    try:
        status = collect(src.spec, src.env, kubeconfig=options.kubeconfig)
        target = resolve(src.spec, src.env, kubeconfig=options.kubeconfig)
        api = connect(target.kubeconfig, target.context)
        recs = records.load_all(api, target.namespace, target.release)
        path = f"/api/v1/namespaces/{target.namespace}/secrets"
        items = raw.get(api, "list secrets", path).items or []
    except SophiaError as e:
        src.note("cluster", False, f"no cluster reachable: {e}")
        return
    unmanaged = sorted(
        s.metadata.name
        for s in items
        if (s.type or "") not in _SYSTEM_SECRET_TYPES
        and (s.metadata.labels or {}).get(MANAGED_BY) != "sophia"
    )
    src.cluster = Cluster(status, recs, unmanaged)
    src.note("cluster", True, f"context {target.context}, namespace {target.namespace}")


def _secrets(src: Sources, options: Options) -> None:
    from sophia_platform.secrets.check import check
    from sophia_platform.secrets.session import opened_layers, provider_context

    assert src.spec is not None
    extra = {"kubeconfig": str(options.kubeconfig)} if options.kubeconfig else {}
    try:
        ctx = provider_context(src.spec, src.env, options=extra)
        with opened_layers(ctx, None) as providers:
            src.secrets = check(ctx.manifest, providers, ctx.env_name)
    except SophiaError as e:
        src.note("secrets", False, f"secrets check could not run: {e}")
        return
    src.note("secrets", True, f"layers {', '.join(src.secrets.layers)}")


@dataclass(frozen=True)
class GitOps:
    """What GitOps says about the environment."""

    managed: bool  # the committed tree puts the environment under Flux or Argo CD
    ok: bool | None  # at the branch head, Ready, services healthy (None: status not read)
    suspended: bool
    summary: str


def _gitops(src: Sources, options: Options) -> None:
    """GitOps status, when this build has ``sophia_platform.gitops.status``."""
    module: Any = None
    with contextlib.suppress(ModuleNotFoundError):
        module = importlib.import_module("sophia_platform.gitops.status")
    if not (hasattr(module, "is_managed") and hasattr(module, "collect_status")):
        src.note("gitops", False, "this build has no GitOps status")
        return
    assert src.spec is not None and src.env is not None
    if not module.is_managed(src.spec, src.env, src.root):
        src.gitops = GitOps(False, None, False, f"{src.env} is not GitOps-managed in this tree")
        src.note("gitops", True, src.gitops.summary)
        return
    try:
        status = module.collect_status(src.spec, src.env, src.root, kubeconfig=options.kubeconfig)
    except SophiaError as e:
        src.gitops = GitOps(True, None, False, f"GitOps-managed; status not read: {e}")
        src.note("gitops", False, f"GitOps status could not be read: {e}")
        return
    src.gitops = GitOps(True, bool(status.ok), bool(status.suspended), str(status.message))
    src.note("gitops", True, f"{status.engine}: {status.message}")
