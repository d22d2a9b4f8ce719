"""``cluster upgrade --to VERSION``: servers first, then agents one at a time.

Each node: cordon, drain through the eviction API (PodDisruptionBudgets respected), re-run the
installer with the new ``INSTALL_K3S_VERSION`` over SSH (air-gapped: the new release's
bundle uploaded over SFTP first), wait until the node is Ready and
reports the new version, uncordon. Refused: a downgrade, skipping a minor version (K3s and
Kubernetes support one minor at a time), or agents ahead of the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sophia_platform.cluster import installer, k3s, kubeside
from sophia_platform.cluster.installer import AirgapBundle
from sophia_platform.cluster.inventory import ClusterNode, Inventory
from sophia_platform.cluster.ssh import Transport
from sophia_platform.errors import ExternalError, UsageError

DRAIN_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Step:
    """One node's upgrade in the order it happens."""

    node: str
    role: str
    current: str | None
    target: str
    action: str  # upgrade | skip (already there)


@dataclass
class UpgradeResult:
    """The order (always) and what was done (unless dry_run)."""

    env: str
    target: str
    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    evicted: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0


def _version(node: Any) -> str | None:
    info = node.status.node_info if node is not None and node.status else None
    return info.kubelet_version if info else None


def plan(inv: Inventory, live: dict[str, Any], target: str) -> list[Step]:
    """The order, after the skew checks (UsageError on an unsupported jump)."""
    try:
        want = k3s.parse_minor(target)
    except ValueError as e:
        raise UsageError(str(e), hint="a K3s version looks like v1.36.3+k3s1") from None
    server_now = _version(live.get(inv.server.name))
    if server_now:
        have = k3s.parse_minor(server_now)
        if want < have:
            raise UsageError(f"{target} is older than the server's {server_now}: no downgrades")
        if want[0] != have[0] or want[1] > have[1] + 1:
            raise UsageError(
                f"{server_now} -> {target} skips a minor version; K3s upgrades one minor at a "
                f"time (go to v{have[0]}.{have[1] + 1}.x first)"
            )
    for agent in inv.agents:
        now = _version(live.get(agent.name))
        if now and server_now and k3s.parse_minor(now) > k3s.parse_minor(server_now):
            raise UsageError(f"{agent.name} ({now}) is newer than the server ({server_now})")
    steps = []
    for node in [inv.server, *inv.agents]:
        now = _version(live.get(node.name))
        action = "skip" if now == target else "upgrade"
        steps.append(Step(node.name, node.role, now, target, action))
    return steps


def upgrade(
    inv: Inventory,
    api: Any,
    transport: Transport,
    target: str,
    *,
    dry_run: bool,
    progress: Callable[[str], None] | None = None,
    ready_timeout_s: float = 120.0,
    drain_timeout_s: float = DRAIN_TIMEOUT_S,
    airgap: AirgapBundle | None = None,
) -> UpgradeResult:
    """Upgrade node by node in :func:`plan`'s order; stop at the first failure (exit 3)."""
    started = time.monotonic()
    say = progress or (lambda _m: None)
    result = UpgradeResult(inv.env, target, dry_run)
    result.steps = plan(inv, kubeside.list_nodes(api), target)
    if dry_run:
        return result
    for step in result.steps:
        if step.action == "skip":
            continue
        node = inv.node(step.node)
        say(f"{node.name}: cordon and drain")
        kubeside.cordon(api, node.name)
        result.evicted[node.name] = kubeside.drain(
            api, node.name, timeout_s=drain_timeout_s, on_wait=say
        )
        say(f"{node.name}: upgrading k3s to {target}")
        asyncio.run(_reinstall(transport, node, target, airgap, say))
        _wait_version(api, node.name, target, ready_timeout_s)
        kubeside.cordon(api, node.name, unschedulable=False)
        result.done.append(node.name)
        say(f"{node.name}: {target}, Ready, uncordoned")
    result.seconds = time.monotonic() - started
    return result


async def _reinstall(
    transport: Transport,
    node: ClusterNode,
    target: str,
    airgap: AirgapBundle | None,
    say: Callable[[str], None],
) -> None:
    session = await transport.connect(node)
    try:
        await installer.install(session, node, target, airgap=airgap, say=say)
    finally:
        session.close()


def _wait_version(api: Any, name: str, target: str, timeout_s: float) -> None:
    def there() -> bool:
        node = kubeside.list_nodes(api).get(name)
        return node is not None and kubeside.is_ready(node) and _version(node) == target

    try:
        kubeside.wait_until(f"{name} Ready on {target}", there, timeout_s)
    except ExternalError as e:
        raise ExternalError(str(e), hint=f"the node stays cordoned; look at {name}") from e
