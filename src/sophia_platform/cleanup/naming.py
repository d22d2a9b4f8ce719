"""Give every hardcoded address one configuration key, the same in every file.

Order of preference: a node of the spec's inventory whose address variable holds that address
(or whose name the context mentions) → ``NODE_..._HOST``; a key already in the local config
store with that value; the most common name derived from the context (``REDIS_HOST``); else
``HOST_10_0_0_7``. Names are unique per address.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_SUFFIXES = re.compile(
    r"(_(URL|URI|ENDPOINT|ADDR|ADDRESS|IP|IPS|HOST|HOSTNAME|HOSTS|SERVER|SERVERS|NODE|DSN|BASE))+$"
)
_GENERIC = frozenset(
    {
        "",
        "HOST",
        "IP",
        "SERVER",
        "ADDRESS",
        "ADDR",
        "URL",
        "URI",
        "ENDPOINT",
        "BASE",
        "NODE",
        "REMOTE",
        "TARGET",
        "DEFAULT",
        "API",
        "SSH",
        "HTTP",
        "HTTPS",
        "LOCAL",
        "PUBLIC",
        "PRIVATE",
    }
)
_VAR = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass(frozen=True)
class NodeRef:
    """What the inventory says about a node: its name, address variable and GPU type."""

    name: str
    var: str
    gpu_type: str | None = None


def key_name(context: str) -> str:
    """``redis_url`` → ``REDIS_HOST``; generic words (``host``, ``ip``) → ``""``."""
    words = re.sub(r"[^A-Za-z0-9]+", "_", context).strip("_").upper()
    stem = _SUFFIXES.sub("", words)
    if stem in _GENERIC or not stem or stem[0].isdigit():
        return ""
    return f"{stem}_HOST"


def fallback_name(address: str) -> str:
    """``10.0.0.7`` → ``HOST_10_0_0_7`` (IPv6: colons become underscores)."""
    return "HOST_" + re.sub(r"[^0-9A-Za-z]+", "_", address).strip("_").upper()


def nodes_from_spec(data: Mapping[str, object]) -> list[NodeRef]:
    """Nodes with a ``${VAR}`` address from a plain ``sophia.yaml`` mapping."""
    nodes = data.get("nodes")
    refs: list[NodeRef] = []
    if isinstance(nodes, Mapping):
        for name, node in nodes.items():
            if not isinstance(node, Mapping):
                continue
            match = _VAR.match(str(node.get("address", "")))
            gpu = node.get("gpu")
            gpu_type = str(gpu.get("type")) if isinstance(gpu, Mapping) else None
            labels = node.get("labels")
            if gpu_type is None and isinstance(labels, Mapping) and "gpu-type" in labels:
                gpu_type = str(labels["gpu-type"])
            var = match.group(1) if match else "NODE_" + key_name(str(name))
            refs.append(NodeRef(str(name), var, gpu_type))
    return refs


def assign_names(
    contexts: Mapping[str, Iterable[str]],
    nodes: list[NodeRef],
    known: Mapping[str, str],
) -> dict[str, str]:
    """Map each address to one key; ``contexts`` maps address → context names seen with it.

    Addresses with the strongest evidence choose first, so the address seen ten times as
    ``REDIS_HOST`` gets that name, and one seen once with it falls back to its next-best name.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    by_value = {value: key for key, value in sorted(known.items())}
    votes = {a: Counter(n for n in (key_name(c) for c in contexts[a]) if n) for a in contexts}
    order = sorted(contexts, key=lambda a: (-max(votes[a].values(), default=0), a))
    for address in order:
        fixed = (
            _node_by_value(address, nodes, known)
            or by_value.get(address)
            or _node_by_context(votes[address], nodes)
        )
        ranked = [n for n, _ in sorted(votes[address].items(), key=lambda i: (-i[1], i[0]))]
        choices = [fixed] if fixed else [*ranked, fallback_name(address)]
        name = next((c for c in choices if c not in taken), choices[0])
        unique, counter = name, 2
        while unique in taken:
            unique, counter = f"{name}_{counter}", counter + 1
        names[address] = unique
        taken.add(unique)
    return names


def _node_by_value(address: str, nodes: list[NodeRef], known: Mapping[str, str]) -> str | None:
    for node in nodes:
        if known.get(node.var, os.environ.get(node.var)) == address:
            return node.var
    return None


def _node_by_context(votes: Counter[str], nodes: list[NodeRef]) -> str | None:
    for node in nodes:
        aliases = {node.var, node.var.removeprefix("NODE_"), key_name(node.name)}
        if node.gpu_type:
            aliases.add(key_name(node.gpu_type))
        if aliases & set(votes):
            return node.var
    return None
