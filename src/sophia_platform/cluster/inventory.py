"""The spec's ``nodes:`` resolved for one environment: addresses, SSH settings, labels, taints.

Addresses (and ``${VARIABLE}`` key paths) are looked up, first hit wins, in the environment's
encrypted local store (``.sophia/secrets/<env>.fernet``, where ``sophia dev hosts up`` writes
the loopback hosts), the local config store (``.sophia/config/NAME``), then the process
environment. The store comes first so a shell that exports production addresses never turns
``cluster up lab`` into a production run. A resolved address may carry ``:PORT`` (the SSH port).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sophia_platform.errors import InputError, UsageError
from sophia_platform.spec.facts import EnvironmentFacts, NodeFacts, SpecFacts

GPU_TYPE_LABEL = "gpu-type"
GPU_RESOURCE = "nvidia.com/gpu"
_VAR = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_HOST_PORT = re.compile(r"^(?P<host>\[[^\]]+\]|[^:]+)(:(?P<port>\d{1,5}))?$")


@dataclass(frozen=True)
class Taint:
    """One node taint, ``key[=value]:effect``."""

    key: str
    value: str
    effect: str

    @classmethod
    def parse(cls, text: str) -> Taint:
        """Parse the spec's (and kubectl's) taint notation."""
        head, effect = text.rsplit(":", 1)
        key, _, value = head.partition("=")
        return cls(key, value, effect)

    def __str__(self) -> str:
        head = f"{self.key}={self.value}" if self.value else self.key
        return f"{head}:{self.effect}"


@dataclass(frozen=True)
class ClusterNode:
    """One node as the bootstrap sees it: where to reach it and what it must become."""

    name: str
    role: str
    host: str
    port: int
    user: str
    key: Path | None
    privilege: str  # "root" or "sudo" (auto resolved)
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    gpu_type: str | None = None
    gpu_count: int = 0

    @property
    def is_server(self) -> bool:
        """True for the control-plane node."""
        return self.role == "server"

    @property
    def where(self) -> str:
        """user@host:port, for messages."""
        return f"{self.user}@{self.host}:{self.port}"


@dataclass(frozen=True)
class Inventory:
    """The resolved nodes of one environment (the server first)."""

    env: str
    context: str
    nodes: tuple[ClusterNode, ...]
    spec_dir: Path

    @property
    def server(self) -> ClusterNode:
        """The one node with role: server (the spec's cross-checks guarantee it)."""
        return next(n for n in self.nodes if n.is_server)

    @property
    def agents(self) -> list[ClusterNode]:
        """Every node with role: agent."""
        return [n for n in self.nodes if not n.is_server]

    def node(self, name: str) -> ClusterNode:
        """One node by name (UsageError if the spec has none)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise UsageError(f"no node {name!r} in sophia.yaml")


def spec_root(spec: SpecFacts) -> Path:
    """The directory of sophia.yaml (the repo root its stores live under)."""
    return spec.source_path.parent if spec.source_path else Path.cwd()


def store_values(spec: SpecFacts, env: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment's local store (encrypted) merged over the local config store."""
    from sophia_platform.cleanup.configstore import read_values
    from sophia_platform.secrets.providers.local import LocalStore

    root = spec_root(spec)
    values = dict(read_values(root))
    local = LocalStore.of(root, env, environ)
    values.update({k: v.reveal() for k, v in local.load().items()})
    return values


def _lookup(ref: str, what: str, values: Mapping[str, str], environ: Mapping[str, str]) -> str:
    match = _VAR.match(ref)
    if not match:
        return ref
    name = match.group(1)
    value = values.get(name) or environ.get(name)
    if not value:
        raise InputError(
            f"{what}: ${{{name}}} is not set",
            hint=f"`sophia secrets set {name}` for this environment, or export {name}",
        )
    return value


def _split_address(text: str, default_port: int, what: str) -> tuple[str, int]:
    match = _HOST_PORT.match(text.strip())
    if not match:
        raise InputError(f"{what}: {text!r} is not host or host:port")
    port = int(match.group("port")) if match.group("port") else default_port
    return match.group("host").strip("[]"), port


def resolve(
    spec: SpecFacts, env: str | None, environ: Mapping[str, str] | None = None
) -> Inventory:
    """Resolve every node of ``spec`` for environment ``env`` (None: the default one)."""
    name, environment = _environment(spec, env)
    environ = dict(os.environ if environ is None else environ)
    if not spec.nodes:
        raise UsageError("sophia.yaml has no nodes:", hint="add the inventory (see README)")
    values = store_values(spec, name, environ)
    nodes = [_resolve_node(spec, n, node, values, environ) for n, node in spec.nodes.items()]
    nodes.sort(key=lambda n: (not n.is_server, n.name))
    return Inventory(name, environment.context, tuple(nodes), spec_root(spec))


def _environment(spec: SpecFacts, env: str | None) -> tuple[str, EnvironmentFacts]:
    name = env or spec.default_environment
    if name not in spec.environments:
        raise UsageError(
            f"unknown environment {env!r}; sophia.yaml defines {', '.join(spec.environments)}"
        )
    return name, spec.environments[name]


def _resolve_node(
    spec: SpecFacts,
    name: str,
    node: NodeFacts,
    values: Mapping[str, str],
    environ: Mapping[str, str],
) -> ClusterNode:
    ssh = spec.cluster.ssh
    user = node.user or ssh.user
    address = _lookup(node.address, f"node {name} address", values, environ)
    host, port = _split_address(address, node.port or ssh.port, f"node {name} address")
    key_ref = node.key or ssh.key
    key = None
    if key_ref:
        key = Path(_lookup(key_ref, f"node {name} ssh key", values, environ)).expanduser()
    privilege = node.privilege or ssh.privilege
    if privilege == "auto":
        privilege = "root" if user == "root" else "sudo"
    labels = dict(node.labels)
    gpu_type = node.gpu_type
    if gpu_type:
        labels[GPU_TYPE_LABEL] = gpu_type
    return ClusterNode(
        name=name,
        role=node.role,
        host=host,
        port=port,
        user=user,
        key=key,
        privilege=privilege,
        labels=labels,
        taints=tuple(Taint.parse(t) for t in node.taints),
        gpu_type=gpu_type,
        gpu_count=node.gpu.count if node.gpu else 0,
    )
