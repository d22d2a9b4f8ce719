"""``sophia cluster plan|up|verify|labels sync|upgrade ENV``: K3s on the spec's nodes over SSH."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sophia_platform.cli import output, params

if TYPE_CHECKING:
    from sophia_platform.cluster.bootstrap import UpResult
    from sophia_platform.cluster.inventory import Inventory
    from sophia_platform.spec.facts import SpecFacts

app = typer.Typer(help="Bootstrap and check the K3s GPU cluster over SSH.", no_args_is_help=True)
labels_app = typer.Typer(help="Node labels and taints.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")

EnvArg = params.EnvArg
JsonOpt = params.JsonOpt
DryRunOpt = params.DryRunOpt
AcceptOpt = Annotated[
    bool,
    typer.Option(
        "--accept-new-host-keys",
        help="First contact: pin the keys of hosts not yet in known_hosts (prints fingerprints).",
    ),
]
AirgapOpt = Annotated[
    Path | None,
    typer.Option(
        "--airgap",
        help="DIR with k3s, install.sh and k3s-airgap-images-*: upload "
        "over SFTP, install with INSTALL_K3S_SKIP_DOWNLOAD=true.",
    ),
]
KubeconfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        help="Kubeconfig to merge into / read (default: $KUBECONFIG or ~/.kube/config).",
    ),
]


def _load(env: str | None) -> tuple[SpecFacts, Inventory]:
    from sophia_platform.cluster.inventory import resolve

    spec = params.spec_facts()  # validated as before; pydantic only when these bytes are new
    return spec, resolve(spec, env)


def known_hosts_path(inv: Inventory) -> Path:
    """``known_hosts`` next to sophia.yaml, unless $SOPHIA_KNOWN_HOSTS names another file."""
    override = os.environ.get("SOPHIA_KNOWN_HOSTS")
    return Path(override) if override else inv.spec_dir / "known_hosts"


def _transport(inv: Inventory, accept_new: bool) -> Any:
    from sophia_platform.cluster.ssh import KnownHosts, Transport

    return Transport(KnownHosts(known_hosts_path(inv), accept_new=accept_new))


def _kubeconfig(explicit: Path | None) -> Path:
    from sophia_platform.kube.merge import user_kubeconfig

    return explicit or user_kubeconfig()


def _progress(message: str) -> None:
    if not output.wants_json():
        output.err_console().print(f"[dim]{message}[/dim]", highlight=False)


def _converge(
    env: str | None,
    *,
    dry_run: bool,
    accept: bool,
    airgap: Path | None,
    kubeconfig: Path | None,
    json_output: bool,
) -> None:
    from sophia_platform.cluster.bootstrap import Bootstrap
    from sophia_platform.cluster.installer import airgap_bundle
    from sophia_platform.errors import ExternalError

    bundle = airgap_bundle(airgap) if airgap is not None else None
    spec, inv = _load(env)
    boot = Bootstrap(
        spec,
        inv,
        _transport(inv, accept),
        kubeconfig=_kubeconfig(kubeconfig),
        airgap=bundle,
        progress=_progress,
    )
    result = boot.run(dry_run=dry_run)
    if output.wants_json(json_output):
        output.emit_json(_up_json(result))
    else:
        _render_up(result)
    if result.failed:
        raise ExternalError(
            f"{len(result.failed)} of {len(result.nodes)} host(s) failed: "
            f"{', '.join(result.failed)}",
            hint=f"fix them and re-run `sophia cluster up {inv.env}` (it converges)",
        )


def _up_json(result: UpResult) -> dict[str, Any]:
    return {
        "env": result.env,
        "context": result.context,
        "dry_run": result.dry_run,
        "converged": result.converged,
        "changes": [{"node": c.node, "step": c.step, "detail": c.detail} for c in result.changes],
        "nodes": [
            {
                "name": n.name,
                "role": n.role,
                "address": n.address,
                "version": n.version,
                "ok": n.ok,
                "error": n.error,
                "notes": n.notes,
            }
            for n in result.nodes
        ],
        "accepted_host_keys": result.accepted_host_keys,
        "kubeconfig": result.kubeconfig,
        "seconds": round(result.seconds, 3),
    }


def _render_up(result: UpResult) -> None:
    from rich.table import Table  # not imported for --json

    console = output.console()
    for key in result.accepted_host_keys:
        console.print(f"pinned new host key of {key['node']}: {key['fingerprint']}")
    verb = "would" if result.dry_run else "did"
    if result.changes:
        table = Table("node", "step", "detail", title=f"{verb} change ({len(result.changes)})")
        for c in result.changes:
            table.add_row(c.node, c.step, c.detail)
        console.print(table)
    nodes = Table("node", "role", "address", "k3s", "result")
    for n in result.nodes:
        state = "[green]ok[/green]" if n.ok else f"[red]FAILED[/red] {n.error}"
        if n.notes:
            state += " (" + "; ".join(n.notes) + ")"
        nodes.add_row(n.name, n.role, n.address, n.version or "-", state)
    console.print(nodes)
    if result.converged:
        console.print(
            f"cluster {result.env} is converged: nothing to change ({result.seconds:.1f}s)"
        )
    elif not result.failed:
        done = "planned" if result.dry_run else "applied"
        console.print(
            f"{len(result.changes)} change(s) {done} in {result.seconds:.1f}s"
            + ("" if result.dry_run else f"; context {result.context} in {result.kubeconfig}")
        )


@app.command("plan")
def plan_cmd(
    env: EnvArg = None,
    accept: AcceptOpt = False,
    airgap: Annotated[
        Path | None, typer.Option("--airgap", help="Plan an air-gapped install.")
    ] = None,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """What `up` would do per node, in order (connects read-only); --json has `changes`."""
    _converge(
        env,
        dry_run=True,
        accept=accept,
        airgap=airgap,
        kubeconfig=kubeconfig,
        json_output=json_output,
    )


@app.command("up")
def up_cmd(
    env: EnvArg = None,
    accept: AcceptOpt = False,
    airgap: AirgapOpt = None,
    kubeconfig: KubeconfigOpt = None,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Install or join K3s on every node, GPU support, kubeconfig (exit 3: a host failed)."""
    _converge(
        env,
        dry_run=dry_run,
        accept=accept,
        airgap=airgap,
        kubeconfig=kubeconfig,
        json_output=json_output,
    )


def _api(inv: Inventory, kubeconfig: Path | None) -> Any:
    from sophia_platform.kube.client import connect

    return connect(_kubeconfig(kubeconfig), inv.context)


@app.command("verify")
def verify_cmd(
    env: EnvArg = None, kubeconfig: KubeconfigOpt = None, json_output: JsonOpt = False
) -> None:
    """Nodes Ready, versions, labels/taints, GPUs, device plugin, smoke; exit 1 on any gap."""
    from sophia_platform.cluster.verify import verify
    from sophia_platform.errors import CheckFailed

    spec, inv = _load(env)
    api = _api(inv, kubeconfig)
    try:
        report = verify(spec, inv, api)
    finally:
        api.close()
    if output.wants_json(json_output):
        output.emit_json({**output_dict(report), "ok": report.ok})
    else:
        from rich.table import Table

        table = Table("node", "ready", "k3s", "gpus (allocatable/spec)", "smoke")
        for n in report.nodes:
            gpus = f"{n.gpus_allocatable}/{n.gpus_wanted}" if n.gpus_wanted else "-"
            table.add_row(
                n.name, "yes" if n.ready else "[red]no[/red]", n.version or "-", gpus, n.smoke
            )
        output.console().print(table)
        if report.device_plugin:
            dp = report.device_plugin
            output.console().print(
                f"RuntimeClass nvidia: {'present' if report.runtime_class else 'MISSING'}; "
                f"device plugin: {dp['ready']}/{dp['desired']} ready"
            )
        for gap in report.gaps:
            output.console().print(f"[red]gap[/red] {gap.subject}: {gap.problem}  ->  {gap.fix}")
    if not report.ok:
        raise CheckFailed(
            f"{len(report.gaps)} gap(s) between sophia.yaml and cluster {inv.env}",
            hint="run the command shown after each gap",
        )
    if not output.wants_json(json_output):
        output.console().print(f"cluster {inv.env} matches sophia.yaml")


def output_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as a JSON-ready dict."""
    import json

    data: dict[str, Any] = json.loads(output.to_json(obj))
    return data


@labels_app.command("sync")
def labels_sync_cmd(
    env: EnvArg = None,
    kubeconfig: KubeconfigOpt = None,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Make node labels and taints match the spec, through the API."""
    from sophia_platform.cluster import kubeside

    _spec, inv = _load(env)
    api = _api(inv, kubeconfig)
    try:
        live = kubeside.list_nodes(api)
        changes = []
        for node in inv.nodes:
            if node.name not in live:
                continue
            if dry_run:
                d = kubeside.drift(node, live[node.name])
            else:
                d = kubeside.sync_labels(api, node, live[node.name])
            if not d.empty:
                changes.append({"node": node.name, "change": d.describe()})
        missing = [n.name for n in inv.nodes if n.name not in live]
    finally:
        api.close()
    if output.wants_json(json_output):
        output.emit_json(
            {"env": inv.env, "dry_run": dry_run, "changes": changes, "missing": missing}
        )
        return
    verb = "would change" if dry_run else "changed"
    for c in changes:
        output.console().print(f"{c['node']}: {verb} {c['change']}")
    if not changes:
        output.console().print("labels and taints already match sophia.yaml")
    if missing:
        output.err_console().print(
            f"not registered (run `sophia cluster up`): {', '.join(missing)}"
        )


@app.command("upgrade")
def upgrade_cmd(
    env: EnvArg = None,
    to: Annotated[str, typer.Option("--to", help="K3s version, e.g. v1.36.4+k3s1.")] = "",
    drain_timeout: Annotated[
        float, typer.Option("--drain-timeout", help="Seconds a drain may wait for PDBs.")
    ] = 120.0,
    airgap: AirgapOpt = None,
    kubeconfig: KubeconfigOpt = None,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Servers first, then agents one at a time: cordon, drain (PDBs), upgrade, Ready, uncordon."""
    from sophia_platform.cluster.installer import airgap_bundle
    from sophia_platform.cluster.upgrade import upgrade
    from sophia_platform.errors import UsageError

    if not to:
        raise UsageError("--to VERSION is required")
    bundle = airgap_bundle(airgap) if airgap is not None else None
    _spec, inv = _load(env)
    api = _api(inv, kubeconfig)
    try:
        result = upgrade(
            inv,
            api,
            _transport(inv, False),
            to,
            dry_run=dry_run,
            progress=_progress,
            drain_timeout_s=drain_timeout,
            airgap=bundle,
        )
    finally:
        api.close()
    if output.wants_json(json_output):
        output.emit_json(result)
        return
    from rich.table import Table

    table = Table(
        "#",
        "node",
        "role",
        "now",
        "to",
        "action",
        title="upgrade order" + (" (dry run)" if dry_run else ""),
    )
    for i, s in enumerate(result.steps, 1):
        table.add_row(str(i), s.node, s.role, s.current or "-", s.target, s.action)
    output.console().print(table)
    if not dry_run:
        output.console().print(f"upgraded {len(result.done)} node(s) in {result.seconds:.1f}s")
