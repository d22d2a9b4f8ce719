"""The demo's GitOps act: the same environment moves from `sophia deploy` to `git push`.

On the demo's cluster: the real Flux controllers and the git server start (``sophia dev
gitops up``), the Helm release the earlier acts made is removed (one deployment method per
environment), ``gitops init`` writes the tree into a demo repository that is pushed, Flux
deploys it; then a new tag is pushed and timed from push to every service ready, a tag that
never becomes ready is pushed (the wait fails fast, Flux rolls the release back), and
``sophia rollback`` goes through git. Every step calls the core the real commands call.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from sophia_platform import git
from sophia_platform.cli import output
from sophia_platform.gitops import actions, devloop, repo
from sophia_platform.gitops.actions import Context
from sophia_platform.gitops.manifests import TreeOptions
from sophia_platform.gitops.tree import init

ENV = "local"


def _say(text: str) -> None:
    output.console().print(f"  {text}", highlight=False, markup=False)


def _reconciled(ctx: Context, what: str, **kw: Any) -> actions.ReconcileResult:
    result = actions.reconcile(ctx, timeout_s=240, grace_s=5.0, **kw)
    took = f"{result.duration_s:.1f}s"
    _say(f"{what}: {result.outcome} at {(result.commit or '?')[:12]} ({took}) {result.message}")
    return result


def reset(api: Any, spec: Any) -> bool:
    """Remove the engine objects an earlier demo run left, so Helm owns the release again.

    Suspended first: helm-controller skips the uninstall of a suspended HelmRelease that is
    deleted, so the release and its pods stay for `sophia deploy` to take over.
    """
    from kubernetes import client

    from sophia_platform.gitops import engines
    from sophia_platform.gitops.layout import FLUX_NAMESPACE, object_name
    from sophia_platform.kube.client import ApiError, call

    name = object_name(spec, ENV)
    try:
        engines.set_suspended(api, "flux", name, True)
    except ApiError as e:
        if e.status != 404:  # 404: no such object, or Flux's CRDs are not installed
            raise
        return False
    custom = client.CustomObjectsApi(api)
    for group, version, plural in (
        ("helm.toolkit.fluxcd.io", "v2", "helmreleases"),
        ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
    ):
        args = (group, version, FLUX_NAMESPACE, plural, name)
        call(f"remove the demo's {plural}", custom.delete_namespaced_custom_object, *args)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the controller removes its finalizer first
            try:
                call(f"read {plural}", custom.get_namespaced_custom_object, *args)
            except ApiError as e:
                if e.status == 404:
                    break
                raise
            time.sleep(0.5)
    return True


def run(spec_path: Path, state_dir: Path, kubeconfig: Path, helm_uninstall: Any) -> None:
    """Run the act; the demo's own cluster is in ``state_dir``."""
    from sophia_platform.spec import load_spec

    loop = devloop.up(state_dir, devloop.default_state_dir(state_dir), repo="sophia-demo")
    assert loop.repo_url is not None
    _say(f"Flux source-controller + helm-controller and the git server: {loop.git_url}")
    work = state_dir / "gitops-demo-repo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(spec_path, work / "sophia.yaml")
    spec = load_spec(work / "sophia.yaml")
    gitops_dir = devloop.default_state_dir(state_dir)
    bare = gitops_dir / "repos" / "sophia-demo.git"
    shutil.rmtree(bare, ignore_errors=True)  # a fresh history for every demo run
    url = devloop.create_repo(gitops_dir, "sophia-demo")
    ident = ["-c", "user.name=Demo Dev", "-c", "user.email=demo@example.com"]
    git.run(["init", "-q", "-b", "main"], work)
    git.run(["remote", "add", "origin", url], work)
    opts = TreeOptions(engine="flux", repo_url=url, timeout="60s", retries=1)
    made = init(spec, ENV, opts, work, dry_run=False)
    _say(f"sophia gitops init {ENV} --engine flux: {len(made.changed)} files under kubernetes/")
    git.run(["add", "-A"], work)
    git.run([*ident, "commit", "-qm", "gitops tree"], work)
    helm_uninstall()
    _say("removed the Helm release made by `sophia deploy`: git is the one method now")
    git.run(["push", "-q", "origin", "HEAD:main"], work)
    ctx = Context.open(spec, ENV, work, root="kubernetes", kubeconfig=kubeconfig)
    actions.bootstrap(ctx)
    _reconciled(ctx, "git push: Flux installs the release")
    start = time.monotonic()
    bump = repo.set_image(spec, work, ENV, "2026.12.1")
    result = _reconciled(ctx, "push a new tag")
    if result.outcome == "succeeded":
        _say(f"push -> every service ready on 2026.12.1: {time.monotonic() - start:.1f}s")
    _say(f"bump commit {(bump.commit or '')[:12]}: {bump.message}")
    repo.set_image(spec, work, ENV, "never-ready", services=[next(iter(spec.services))])
    _reconciled(ctx, "push a tag that never becomes ready")
    _say("Flux remediates: the upgrade is rolled back to the last release (retries: 1)")
    plan, commit, back = actions.rollback(ctx, None, timeout_s=240, grace_s=5.0)
    _say(
        f"sophia rollback {ENV}: through git, values of {plan.target[:12]} -> "
        f"{(commit.commit or '')[:12]}"
    )
    if back is not None:
        _say(f"converged: {back.outcome} at {(back.commit or '?')[:12]} ({back.duration_s:.1f}s)")
    _say(f"look around: cd {work} && sophia gitops status {ENV}; sophia history {ENV}")
