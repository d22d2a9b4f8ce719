"""Rich rendering of a spec summary (``sophia show``)."""

from __future__ import annotations

from rich.tree import Tree

from sophia_platform.spec.summary import Summary


def summary_tree(summary: Summary) -> Tree:
    """A tree of environments, nodes, services and the secrets each service consumes."""
    root = Tree(f"[bold]{summary.project}[/] (default environment: {summary.default_environment})")
    envs = root.add("[bold]environments[/]")
    for name, env in summary.environments.items():
        esc = f", ESC {env['esc']}" if env["esc"] else ""
        envs.add(f"{name}: context {env['context']}, namespace {env['namespace']}{esc}")
    nodes = root.add("[bold]nodes[/]")
    for name, node in summary.nodes.items():
        gpu = f", {node['gpus']}x {node['gpu_type']}" if node["gpus"] else ""
        nodes.add(f"{name} ({node['role']}) at {node['address']}{gpu}")
    services = root.add(f"[bold]services[/] ({len(summary.services)})")
    for svc in summary.services:
        gpu = f", {svc.gpu} GPU {svc.gpu_type or ''}".rstrip() if svc.gpu else ""
        branch = services.add(f"{svc.name}: {svc.image} ({svc.kind}, x{svc.replicas}{gpu})")
        if svc.secrets:
            branch.add("secrets: " + ", ".join(svc.secrets))
    unused = f", unused: {', '.join(summary.secrets_unused)}" if summary.secrets_unused else ""
    root.add(
        f"[bold]secrets[/]: {summary.secrets_total} in the manifest, "
        f"{summary.secrets_required} required{unused}"
    )
    return root
