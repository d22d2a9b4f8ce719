"""The README's step-by-step block, run verbatim as a user types it, from a fresh directory.

Every line of the block (extracted from README.md, not from the runbook module) runs with bash
as its own process in an empty directory, with a temporary HOME (so ``~/.kube/config`` and the
secrets key are temporary too) and no KUBECONFIG. The test itself creates nothing in the
cluster: no namespace, RuntimeClass or volume; whatever the commands need, they make.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from sophia_platform import runbook
from sophia_platform.devcluster import toolchain
from tests.plugins.k8s import processes_mentioning

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "sophia-ai"  # environments.local.namespace of the example


def _user_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KUBECONFIG", "SOPHIA_SPEC", "SOPHIA_DEV_CLUSTER_DIR", "XDG_STATE_HOME"}
        and not k.startswith("SOPHIA_SECRETS")
    }
    env["HOME"] = str(home)
    env.pop("XDG_CONFIG_HOME", None)
    # The binaries stay where scripts/setup built them (a temp HOME must not rebuild them).
    env["XDG_CACHE_HOME"] = str(toolchain.cache_root().parents[1])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # What scripts/demo exports: the checkout's test-only k3s stand-in for `dev hosts up`.
    env["SOPHIA_K3S_STANDIN"] = str(ROOT / "tests" / "standin")
    return env


def _contexts(kubeconfig: Path) -> list[str]:
    if not kubeconfig.exists():
        return []
    data = YAML(typ="safe").load(kubeconfig.read_text()) or {}
    names = [c["name"] for c in data.get("contexts") or []]
    names += [c["name"] for c in data.get("clusters") or []]
    return names + [u["name"] for u in data.get("users") or []]


def _claims_bound_by_the_provisioner(kubeconfig: Path) -> list[str]:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(kubeconfig), context="sophia-local")
    try:
        core = client.CoreV1Api(api)
        claims = core.list_namespaced_persistent_volume_claim(NAMESPACE).items
        assert claims, "the example's StatefulSets have claims"
        bound = []
        for claim in claims:
            assert claim.status.phase == "Bound", (claim.metadata.name, claim.status.phase)
            assert claim.spec.storage_class_name == "local-path"  # the default class, unnamed
            pv = core.read_persistent_volume(claim.spec.volume_name)
            annotations = pv.metadata.annotations or {}
            assert annotations.get("pv.kubernetes.io/provisioned-by") == "rancher.io/local-path"
            bound.append(claim.metadata.name)
        return bound
    finally:
        api.close()


def _stored_values(
    env: dict[str, str], workdir: Path, environment: str = "local"
) -> dict[str, str]:
    from sophia_platform.secrets.providers.local import LocalProvider
    from sophia_platform.secrets.session import provider_context
    from sophia_platform.spec import load_spec

    spec = load_spec(workdir / "sophia.yaml")
    # Where the commands' key went: $HOME/.config/sophia (their HOME, not this process's).
    environ = {"XDG_CONFIG_HOME": str(Path(env["HOME"]) / ".config")}
    ctx = provider_context(spec, environment, environ=environ)
    return {k: v.reveal() for k, v in LocalProvider(ctx).load().items()}


# Five acts on one cluster, the GitOps one with real Flux upgrades and a remediation: minutes.
@pytest.mark.timeout(2400)
def test_the_readme_block_works_as_typed(tmp_path: Path, k8s_binaries: None) -> None:
    block = runbook.readme_block((ROOT / "README.md").read_text(encoding="utf-8"))
    lines = runbook.command_lines(block)
    assert lines, "README.md has no runbook block"
    env = _user_env(tmp_path)
    workdir = tmp_path / "fresh"
    workdir.mkdir()
    kubeconfig = Path(env["HOME"]) / ".kube" / "config"
    state = Path(env["HOME"]) / ".local" / "state" / "sophia-platform"
    state_dir, hosts_dir = state / "dev-cluster", state / "dev-hosts"
    outputs: list[str] = []
    ran: list[runbook.Step] = []
    try:
        for line, step in zip(lines, runbook.steps_for(lines), strict=True):
            if step.teardown and not any(s.teardown for s in ran):
                # Before `down`: what K3s would give, the contexts in the user's kubeconfig.
                assert {"sophia-local", "sophia-lab"} <= set(_contexts(kubeconfig))
                assert _claims_bound_by_the_provisioner(kubeconfig)
                assert processes_mentioning(state_dir) and processes_mentioning(hosts_dir)
                assert (workdir / "known_hosts").read_text().count("\n") == 5
            result = runbook.run_step(line, step, cwd=workdir, env=env, on_output=lambda _: None)
            outputs.append(result.output)
            ran.append(step)
            assert result.ok, f"`{line}` {result.problem()}:\n{result.output[-3000:]}"
    finally:
        for step in runbook.steps():
            if step.teardown and step not in ran:
                runbook.run_step(step.command, step, cwd=workdir, env=env, on_output=lambda _: None)
    text = "".join(outputs)
    assert f"created namespace {NAMESPACE}" in text  # said by the sync, the first writer
    assert "created RuntimeClass/nvidia" in text and "StorageClass/local-path" in text
    # After `down`: no entry in the kubeconfig, no process, no state.
    assert not [n for n in _contexts(kubeconfig) if n.startswith("sophia-")]
    assert not processes_mentioning(state_dir) and not processes_mentioning(hosts_dir)
    assert not state_dir.exists() and not hosts_dir.exists()
    # The cluster act: the stand-in said so, the join token stayed in the store.
    assert "STAND-IN" in text and "converged: nothing to change" in text
    values = _stored_values(env, workdir)
    assert len(values) == 42
    lab = _stored_values(env, workdir, "lab")
    assert lab["K3S_TOKEN"].startswith("K10")  # read over SSH straight into the store
    for value in [*values.values(), lab["K3S_TOKEN"]]:
        assert value not in text
