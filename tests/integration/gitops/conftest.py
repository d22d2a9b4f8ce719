"""GitOps against real Flux: source-controller and helm-controller as host processes, a real
git server (git http-backend), the real local control plane.

The loop (controllers + git server) is started once per session next to the session's
cluster; each test gets its own namespace, project name, bare repository and work tree.
Canary values are written to the environment's Secrets; tests check they reach no file,
custom resource or output.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sophia_platform.gitops import actions, devloop, engines, tools
from sophia_platform.gitops.actions import Context
from sophia_platform.gitops.layout import object_name
from sophia_platform.gitops.manifests import TreeOptions
from sophia_platform.gitops.tree import init
from sophia_platform.kube.client import ApiError
from sophia_platform.spec import Spec, load_spec

from ..deploy.conftest import CANARY, free_namespace, make_env, write_spec

ROOT = Path(__file__).resolve().parents[3]
SOPHIA = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "sophia"


@dataclass(frozen=True)
class Loop:
    """The running GitOps loop of the session."""

    state_dir: Path
    git_url: str
    kubeconfig: Path


@pytest.fixture(scope="session")
def gitops_loop(k8s_cluster: Any) -> Iterator[Loop]:
    if tools.missing():
        tools.build()  # a broken build fails the session; CI builds them in scripts/setup
    state_dir = k8s_cluster.state_dir / "gitops"
    up = devloop.up(k8s_cluster.state_dir, state_dir)
    try:
        yield Loop(state_dir, up.git_url, k8s_cluster.kubeconfig)
    finally:
        devloop.down(state_dir)


def git(cwd: Path, *args: str) -> str:
    """Run git in a test's work tree (tests only; the product uses sophia_platform.git)."""
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@dataclass
class GitOpsEnv:
    """One test's environment: spec, work tree, bare repo on the loop's server, cluster."""

    spec: Spec
    work: Path
    url: str
    namespace: str
    kubeconfig: Path
    api: Any

    def git(self, *args: str) -> str:
        return git(self.work, *args)

    @property
    def name(self) -> str:
        """The GitRepository/HelmRelease name."""
        return object_name(self.spec, "local")

    def push(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        self.git("push", "-q", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD")

    def ctx(self) -> Context:
        return Context.open(
            self.spec, "local", self.work, root="kubernetes", kubeconfig=self.kubeconfig
        )

    def sophia(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        return subprocess.run(
            [str(SOPHIA), *args],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def images(self) -> dict[str, str]:
        from kubernetes import client

        apps = client.AppsV1Api(self.api)
        objs = [
            *apps.list_namespaced_deployment(self.namespace).items,
            *apps.list_namespaced_stateful_set(self.namespace).items,
        ]
        return {o.metadata.name: o.spec.template.spec.containers[0].image for o in objs}


def _edit(project: str) -> Any:
    def edit(data: Any) -> None:
        data["project"] = project

    return edit


@pytest.fixture
def genv(
    k8s_cluster: Any, k8s_namespace: str, gitops_loop: Loop, tmp_path: Path
) -> Iterator[GitOpsEnv]:
    """A GitOps-managed `local` environment, initialised, pushed and bootstrapped."""
    project = f"g{uuid.uuid4().hex[:8]}"
    work = tmp_path / "work"
    work.mkdir()
    write_spec(work, k8s_namespace, edit=_edit(project))
    git(work, "init", "-q", "-b", "main")
    git(work, "config", "user.name", "Dev One")
    git(work, "config", "user.email", "dev1@example.com")
    url = devloop.create_repo(gitops_loop.state_dir, project)
    git(work, "remote", "add", "origin", url)
    # Secrets with canary values, storage and the RuntimeClass, as `sophia deploy` expects.
    make_env(k8s_cluster, k8s_namespace, work / "sophia.yaml")
    spec = load_spec(work / "sophia.yaml")
    opts = TreeOptions(engine="flux", repo_url=url, timeout="45s", retries=1)
    init(spec, "local", opts, work, dry_run=False)
    env = GitOpsEnv(spec, work, url, k8s_namespace, k8s_cluster.kubeconfig, k8s_cluster.api_client)
    env.push("gitops tree")
    actions.bootstrap(env.ctx())
    yield env
    _teardown(env, env.name)
    free_namespace(k8s_cluster.api_client, k8s_namespace)


def _teardown(env: GitOpsEnv, name: str) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    custom = client.CustomObjectsApi(env.api)
    with contextlib.suppress(ApiError):  # a test may have deleted them already
        engines.set_suspended(env.api, "flux", name, True)
    for group, version, plural in (
        ("helm.toolkit.fluxcd.io", "v2", "helmreleases"),
        ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
    ):
        try:
            custom.delete_namespaced_custom_object(group, version, "flux-system", plural, name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text
