"""``sophia dev cluster up|down|status|kubeconfig``: a real local control plane."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sophia_platform.cli import output, params
from sophia_platform.cli.dev_gitops import app as gitops_app

if TYPE_CHECKING:
    from sophia_platform.devcluster.cluster import ClusterStatus, UpResult

app = typer.Typer(help="Developer tools.", no_args_is_help=True)
cluster_app = typer.Typer(
    help="A real local Kubernetes control plane with simulated GPU nodes.",
    no_args_is_help=True,
)
app.add_typer(cluster_app, name="cluster")
app.add_typer(gitops_app, name="gitops")
hosts_app = typer.Typer(
    help="Loopback SSH hosts (real sshd, stand-in k3s) for `sophia cluster` on this machine.",
    no_args_is_help=True,
)
app.add_typer(hosts_app, name="hosts")

StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where data, logs and PID files live "
        "(default: $SOPHIA_DEV_CLUSTER_DIR or ~/.local/state/sophia-platform/dev-cluster).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _state_dir(explicit: Path | None) -> Path:
    from sophia_platform.devcluster.cluster import default_state_dir

    return explicit if explicit is not None else default_state_dir()


@cluster_app.command("up")
def up_cmd(
    state_dir: StateDirOption = None,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", help="sophia.yaml whose nodes: are simulated."),
    ] = None,
    build: Annotated[
        bool, typer.Option("--build/--no-build", help="Build missing binaries with Go first.")
    ] = True,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge/--no-merge",
            help="Merge the context sophia-local into your kubeconfig (first file of "
            "$KUBECONFIG, else ~/.kube/config); `down` removes it.",
        ),
    ] = True,
    switch_context: Annotated[
        bool,
        typer.Option("--switch-context", help="Also make sophia-local the current context."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan, start nothing.")
    ] = False,
    json_flag: JsonOption = False,
) -> None:
    """Start a local control plane with what K3s provides (reuses a running one).

    etcd, kube-apiserver, controller-manager, scheduler, kwok (the spec's nodes, simulated) and
    the local-path provisioner; the nvidia RuntimeClass and the default StorageClass local-path.
    """
    from sophia_platform.devcluster import addons, cluster, inventory, toolchain
    from sophia_platform.devcluster.components import COMPONENTS
    from sophia_platform.errors import UsageError
    from sophia_platform.kube.merge import user_kubeconfig

    directory = _state_dir(state_dir)
    spec_path = params.spec_path(spec)
    nodes = inventory.nodes_from_spec(spec_path)
    merge_path = user_kubeconfig() if merge else None
    if not nodes:
        raise UsageError("the spec has no nodes: to simulate", hint="add nodes: to sophia.yaml")
    if dry_run:
        plan = {
            "state_dir": str(directory),
            "spec": str(spec_path),
            "components": list(COMPONENTS),
            "addons": [a.label for a in addons.addons()],
            "merge_kubeconfig": str(merge_path) if merge_path else None,
            "switch_context": switch_context,
            "binaries": {
                n: str(toolchain.find_tool(n) or "(to build)") for n in toolchain.BINARIES
            },
            "nodes": [{"name": n.name, "gpu_type": n.gpu_type, "gpus": n.gpu_count} for n in nodes],
        }
        if output.wants_json(json_flag):
            output.emit_json(plan)
        else:
            con = output.console()
            con.print(f"would start a local cluster in {directory}")
            con.print(f"  nodes from {spec_path}: {', '.join(n.name for n in nodes)}")
            con.print(f"  with {', '.join(a.label for a in addons.addons())}")
            if merge_path:
                con.print(f"  and merge the context sophia-local into {merge_path}")
        return
    if build and toolchain.missing_tools():
        output.err_console().print("building the local cluster binaries (first run only)...")
        toolchain.build()
    result = cluster.up(
        directory, nodes, merge_kubeconfig=merge_path, switch_context=switch_context
    )
    if output.wants_json(json_flag):
        output.emit_json(result)
        return
    _render_up(result)


def _render_up(result: UpResult) -> None:
    con = output.console()
    how = "reused the running cluster" if result.reused else "started a local cluster"
    con.print(f"{how} at {result.server} in {result.seconds:.1f}s")
    if result.stale_pid_files:
        stale = ", ".join(result.stale_pid_files)
        output.err_console().print(f"replaced a crashed cluster (stale PID files: {stale})")
    if result.addons_created:
        con.print(f"created {', '.join(result.addons_created)}")
    merged = result.merged
    if merged is None:
        con.print(f"export KUBECONFIG={result.kubeconfig}   # context sophia-local")
        return
    verb = "updated" if merged.replaced else "added"
    con.print(f"{verb} context sophia-local in {merged.path}", highlight=False)
    if merged.current_context == "sophia-local":
        con.print("current context: sophia-local")
    else:
        con.print(
            f"current context stays {merged.current_context}; use --context sophia-local "
            "(the spec's local environment names it) or --switch-context",
            highlight=False,
        )


@cluster_app.command("down")
def down_cmd(
    state_dir: StateDirOption = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep data and logs.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would stop.")] = False,
    json_flag: JsonOption = False,
) -> None:
    """Stop every process the cluster started and remove its state (unless --keep)."""
    from sophia_platform.devcluster import cluster
    from sophia_platform.devcluster.processes import Supervisor, is_running

    directory = _state_dir(state_dir)
    if dry_run:
        records = Supervisor(directory).records() if directory.exists() else {}
        plan = {n: {"pid": r.pid, "running": is_running(r)} for n, r in records.items()}
        if output.wants_json(json_flag):
            output.emit_json({"state_dir": str(directory), "would_stop": plan, "keep": keep})
        else:
            names = ", ".join(f"{n} ({v['pid']})" for n, v in plan.items()) or "nothing"
            output.console().print(f"would stop: {names}; would remove {directory}: {not keep}")
        return
    result = cluster.down(directory, keep=keep)
    if output.wants_json(json_flag):
        output.emit_json(result)
        return
    if not result.stopped and not result.stale_pid_files:
        output.console().print(f"no local cluster running in {directory}")
    else:
        output.console().print(
            f"stopped {', '.join(result.stopped) or 'nothing'} in {result.seconds:.1f}s"
            + (f" (killed: {', '.join(result.killed)})" if result.killed else "")
        )
    if result.stale_pid_files:
        output.err_console().print(f"cleared stale PID files: {', '.join(result.stale_pid_files)}")
    for unmerged in result.unmerged:
        if unmerged.removed:
            output.console().print(
                f"removed context sophia-local from {unmerged.path}", highlight=False
            )


@cluster_app.command("status")
def status_cmd(state_dir: StateDirOption = None, json_flag: JsonOption = False) -> None:
    """Show components, versions and nodes with their GPU capacity; exit 1 if not running."""
    from sophia_platform.devcluster import cluster
    from sophia_platform.errors import CheckFailed

    result = cluster.status(_state_dir(state_dir))
    if output.wants_json(json_flag):
        output.emit_json(result)
    else:
        _render_status(result)
    if not result.running:
        raise CheckFailed(
            f"no healthy local cluster in {result.state_dir}", hint="run `sophia dev cluster up`"
        )


def _render_status(result: ClusterStatus) -> None:
    console = output.console()
    console.print(f"state: {result.state_dir}")
    if result.server:
        console.print(f"server: {result.server} ({result.server_version or 'not answering'})")
    table = Table("component", "pid", "running", "version")
    for c in result.components:
        table.add_row(c.name, str(c.pid or "-"), "yes" if c.running else "no", c.version or "-")
    console.print(table)
    if result.stale_pid_files:
        console.print(f"stale PID files (crashed): {', '.join(result.stale_pid_files)}")
    if result.nodes:
        nodes = Table("node", "ready", "gpu type", "gpus (requested/allocatable)")
        for n in result.nodes:
            gpus = f"{n.gpu_requested}/{n.gpu_allocatable}" if n.gpu_allocatable else "-"
            nodes.add_row(n.name, "yes" if n.ready else "no", n.gpu_type or "-", gpus)
        console.print(nodes)


@cluster_app.command("kubeconfig")
def kubeconfig_cmd(state_dir: StateDirOption = None) -> None:
    """Print the kubeconfig path (use: export KUBECONFIG=$(sophia dev cluster kubeconfig))."""
    from sophia_platform.devcluster.components import Layout
    from sophia_platform.errors import CheckFailed

    path = Layout(_state_dir(state_dir)).kubeconfig
    if not path.is_file():
        raise CheckFailed(
            f"no local cluster kubeconfig at {path}", hint="run `sophia dev cluster up`"
        )
    typer.echo(str(path))


HostsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where the hosts live (default: $SOPHIA_DEV_HOSTS_DIR or "
        "~/.local/state/sophia-platform/dev-hosts).",
    ),
]


@hosts_app.command("up")
def hosts_up_cmd(
    env: Annotated[str, typer.Argument(help="Environment whose store gets the addresses.")] = "lab",
    state_dir: HostsDirOption = None,
    stand_in: Annotated[
        Path | None,
        typer.Option(
            "--stand-in",
            help="The k3s stand-in directory (default: $SOPHIA_K3S_STANDIN, else "
            "tests/standin of the checkout here; scripts/demo sets it).",
        ),
    ] = None,
    json_flag: JsonOption = False,
) -> None:
    """One real sshd per node of the spec on 127.0.0.1 + a bare control plane (stand-in k3s)."""
    from sophia_platform.devcluster import hosts

    result = hosts.up_for_spec(params.spec_path(), env, state_dir=state_dir, standin=stand_in)
    if output.wants_json(json_flag):
        output.emit_json(result)
        return
    console = output.console()
    for h in result.hosts:
        how = "running" if h.name in result.reused else "started"
        console.print(
            f"{h.name}: sshd {how} on 127.0.0.1:{h.port}  host key {h.host_key_fingerprint}"
        )
    console.print(f"addresses written to the {env} store; bare control plane at {result.server}")
    console.print(
        f"STAND-IN: the k3s on these hosts is a test-only stand-in from {result.standin}, "
        "not real K3s (SSH, sudo, SFTP and the API server are real)",
        highlight=False,
    )
    console.print(f"next: sophia cluster plan {env} --accept-new-host-keys")


@hosts_app.command("down")
def hosts_down_cmd(state_dir: HostsDirOption = None, json_flag: JsonOption = False) -> None:
    """Stop every loopback sshd and the control plane behind them; remove their state."""
    from sophia_platform.devcluster import hosts
    from sophia_platform.kube.merge import user_kubeconfig

    done = hosts.Hosts(state_dir or hosts.default_state_dir()).down(user_kubeconfig())
    if output.wants_json(json_flag):
        output.emit_json(done)
        return
    con = output.console()
    con.print(f"stopped: {', '.join(done.stopped) or 'nothing was running'}")
    if done.removed_context:
        con.print(f"removed context {done.removed_context} from {done.kubeconfig}", highlight=False)
