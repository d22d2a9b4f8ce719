"""``sophia demo``: the whole story on a local control plane, end to end, with real helm.

Build/reuse the local cluster with the example's GPU nodes, store demo secrets in the local
store, sync them into Kubernetes Secrets, deploy the 15 services, show status, then show a
deploy that never becomes ready failing fast and rolling back by itself, and a manual rollback.
Every step calls the same core as the real commands.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from sophia_platform.cli import output, params

app = typer.Typer(add_completion=False)

ENV = "local"  # the example's environment on the local cluster (context sophia-local)


def _step(n: int, text: str) -> None:
    output.console().print(f"\n[bold magenta]{n}/7[/] [bold]{text}[/]")


def _cluster(state_dir: Path, spec_path: Path) -> Any:
    from sophia_platform.devcluster import cluster, inventory, toolchain

    if toolchain.missing_tools():
        output.err_console().print(
            "building the local cluster binaries with Go (first run only)..."
        )
        toolchain.build()
    result = cluster.up(state_dir, inventory.nodes_from_spec(spec_path))
    how = "reused" if result.reused else "started"
    output.console().print(
        f"  {how} in {result.seconds:.1f}s: {result.server} (context sophia-local)"
    )
    return result


def _secrets(spec: Any, state_dir: Path, kubeconfig: Path) -> None:
    from sophia_platform.config import SecretValue
    from sophia_platform.secrets import sync
    from sophia_platform.secrets.providers import create
    from sophia_platform.secrets.session import provider_context

    environ = dict(os.environ)
    environ["SOPHIA_SECRETS_KEY_FILE"] = str(state_dir / "demo-secrets.key")
    options = {"local_dir": str(state_dir / "demo-secrets"), "kubeconfig": str(kubeconfig)}
    ctx = provider_context(spec, ENV, options=options, environ=environ)
    from sophia_platform.secrets.providers.local import LocalProvider

    with create("local", ctx) as local:
        assert isinstance(local, LocalProvider)
        if set(local.load()) != set(spec.secrets):
            # Random values: real-looking, never placeholders, never printed.
            local.save({name: SecretValue(secrets.token_urlsafe(24)) for name in spec.secrets})
        output.console().print(f"  local store: {len(spec.secrets)} secrets (values never shown)")
    with create("local", ctx) as source, create("kubernetes", ctx) as target:
        result = sync.run(source, target, ENV, sync.SyncOptions(), dry_run=False)
    summary = ", ".join(f"{k} {v}" for k, v in result.plan.summary().items() if v) or "nothing"
    output.console().print(f"  synced local -> kubernetes in {result.seconds:.1f}s: {summary}")


def _deploy(spec: Any, kubeconfig: Path, *, rollback_previous: bool = False, **kw: Any) -> Any:
    from sophia_platform.cli.deploy_view import LiveObserver, failure_panel, result_line
    from sophia_platform.deploy.results import DeployFailed, DeployOptions
    from sophia_platform.deploy.rollback import rollback
    from sophia_platform.deploy.upgrade import deploy

    observer = LiveObserver(output.err_console())
    opts = DeployOptions(kubeconfig=kubeconfig, timeout_s=300, grace_s=5.0, lock_wait_s=30, **kw)
    try:
        if rollback_previous:
            result = rollback(spec, ENV, None, opts, observer)
        else:
            result = deploy(spec, ENV, opts, observer)
    except DeployFailed as e:
        observer.close()
        if e.result.failure is not None:
            output.console().print(failure_panel(e.result.failure))
        output.console().print(f"  [red]deploy failed[/]: {e.message}")
        r = e.result
        if r.rolled_back_to is not None:
            output.console().print(
                f"  [yellow]stopped and rolled back to revision {r.rolled_back_to} in "
                f"{r.duration_s:.1f}s[/] (the rollout timeout was {opts.timeout_s}s)"
            )
        return r
    observer.close()
    for name, (old, new) in result.changes.items():
        output.console().print(f"  {name}: {old} -> {new}")
    output.console().print(f"  [green]{result_line(result)}[/]")
    return result


def _status(spec: Any, kubeconfig: Path) -> None:
    from sophia_platform.cli.deploy_view import status_tables
    from sophia_platform.deploy.status import collect

    output.console().print(status_tables(collect(spec, ENV, kubeconfig=kubeconfig)))


def _lab(spec_path: Path, directory: Path, hosts_dir: Path) -> None:
    """Run `sophia dev hosts up lab`, `cluster up lab` and `cluster verify lab` as typed.

    Each is a new process; the lab's store, known_hosts and kubeconfig stay in the demo's state.
    """
    import sys

    from sophia_platform import runner
    from sophia_platform.devcluster.hosts import default_standin

    if not (default_standin() / "k3s" / "install.sh").is_file():
        output.console().print(
            "  skipped: the k3s stand-in (tests/standin/) is in the checkout only"
        )
        return
    env = {
        "SOPHIA_SPEC": str(spec_path.resolve()),
        "SOPHIA_K3S_STANDIN": str(default_standin().resolve()),
        "SOPHIA_LOCAL_SECRETS_DIR": str(directory / "lab-secrets"),
        "SOPHIA_SECRETS_KEY_FILE": str(directory / "demo-secrets.key"),
        "SOPHIA_KNOWN_HOSTS": str(directory / "lab-known_hosts"),
        "KUBECONFIG": str(directory / "lab-kubeconfig"),
    }
    for line in (
        ["dev", "hosts", "up", "lab", "--state-dir", str(hosts_dir)],
        ["cluster", "up", "lab", "--accept-new-host-keys"],
        ["cluster", "verify", "lab"],
    ):
        output.console().print(f"  $ sophia {' '.join(line)}", highlight=False, markup=False)
        done = runner.run(
            [sys.executable, "-m", "sophia_platform.cli.main", *line],
            timeout=600,
            inherit=["*"],
            env=env,
            label=f"sophia {line[0]} {line[1]}",
        )
        for text in done.stdout.splitlines():
            output.console().print(f"    {text}", highlight=False, markup=False)


@app.command()
def demo(
    state_dir: Annotated[
        Path | None,
        typer.Option("--state-dir", help="Local cluster state (default: sophia dev cluster's)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the steps only.")] = False,
) -> None:
    """Run the end-to-end demo on a local control plane (leaves it running to look around)."""
    from sophia_platform.deploy.actions import ensure_namespace
    from sophia_platform.deploy.target import resolve
    from sophia_platform.deploy.values import render_values
    from sophia_platform.devcluster import cluster
    from sophia_platform.kube.client import connect
    from sophia_platform.kube.local_prep import (
        claims_of,
        ensure_runtime_class,
        ensure_static_volumes,
    )

    spec_path = params.spec_path()
    spec = params.spec(spec_path)
    directory = state_dir or cluster.default_state_dir()
    if dry_run:
        output.console().print(
            f"would: start/reuse a local cluster in {directory} with {len(spec.nodes)} nodes; "
            f"store and sync {len(spec.secrets)} demo secrets; deploy {len(spec.services)} "
            f"services of {spec_path} to {ENV}; show a failing deploy roll back; roll back"
        )
        return
    _step(1, f"local control plane with the {len(spec.nodes)} nodes of {spec_path.name}")
    up = _cluster(directory, spec_path)
    kubeconfig = up.kubeconfig
    target = resolve(spec, ENV, kubeconfig=kubeconfig)
    api = connect(kubeconfig, target.context)
    ensure_namespace(api, target.namespace)
    # What K3s has and a bare control plane lacks: the nvidia RuntimeClass, storage for claims.
    ensure_runtime_class(api)
    ensure_static_volumes(api, target.namespace, claims_of(render_values(spec, ENV)))

    _step(2, "demo secrets: local store -> Kubernetes Secrets")
    _secrets(spec, directory, kubeconfig)

    _step(3, f"sophia deploy {ENV}: {len(spec.services)} services, one chart, one command")
    _deploy(spec, kubeconfig)

    _step(4, f"sophia status {ENV}")
    _status(spec, kubeconfig)

    _step(5, "a release whose image never becomes ready: fail fast, roll back by itself")
    _deploy(spec, kubeconfig, image_tag="never-ready")

    _step(6, f"ship a new tag, then `sophia rollback {ENV}` to the previous good release")
    _deploy(spec, kubeconfig, image_tag="2026.11.4")
    _deploy(spec, kubeconfig, rollback_previous=True)
    _status(spec, kubeconfig)

    hosts_dir = directory / "lab-hosts"
    _step(7, "the GPU cluster over SSH: five real sshd hosts (k3s is a STAND-IN), up + verify")
    _lab(spec_path, directory, hosts_dir)

    con = output.console()
    con.print("\n[bold]where to look next[/]")
    lines = [
        f"export KUBECONFIG={kubeconfig}",
        f"export SOPHIA_SPEC={spec_path.resolve()}",
        f"sophia status {ENV}            # services, GPUs per node, drift (--json, --watch)",
        f"sophia history {ENV}           # every deploy: who, git sha, tags, outcome",
        f"sophia diff {ENV}              # sophia.yaml vs live, secrets masked",
        f"sophia rollback {ENV} --to N   # any stored revision",
        f"sophia lock status {ENV}       # the deploy lock (a Lease)",
        f"sophia render values {ENV}     # the generated Helm values",
        "sophia dev cluster down"
        + ("" if state_dir is None else f" --state-dir {directory}")
        + "   # stop the local control plane",
        f"sophia dev hosts down --state-dir {hosts_dir}   # stop the lab's sshd hosts",
    ]
    for line in lines:
        con.print(f"  {line}", highlight=False, markup=False)
