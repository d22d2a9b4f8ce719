"""What K3s is told on each node: ``/etc/rancher/k3s/config.yaml`` and the installer's argv.

Flags live in the config file, not on the installer's command line, so a change of flags is a
diff of one file plus a service restart, never a reinstall; the agents' join token is in that
file too (written from stdin, mode 0600), so it never appears in any process's argv.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from sophia_platform.cluster.inventory import ClusterNode, Inventory
from sophia_platform.config import SecretValue
from sophia_platform.spec.facts import ClusterFacts

CONFIG_PATH = "/etc/rancher/k3s/config.yaml"
TOKEN_PATH = "/var/lib/rancher/k3s/server/node-token"
KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml"
BINARY_PATH = "/usr/local/bin/k3s"
IMAGES_DIR = "/var/lib/rancher/k3s/agent/images"
INSTALL_URL = "https://get.k3s.io"
API_PORT = 6443
KUBELET_PORT = 10250
SECRET_KEYS = frozenset({"token", "agent-token"})
# node-restriction refuses labels a kubelet sets on itself in these namespaces; they are set
# through the API (labels sync) instead of the registration flags.
_RESTRICTED = re.compile(r"(^|\.)(kubernetes\.io|k8s\.io)/")
_VERSION = re.compile(r"k3s version (v\d+\.\d+\.\d+\+k3s\d+)")


def service(node: ClusterNode) -> str:
    """The systemd unit the installer creates: k3s (server) or k3s-agent."""
    return "k3s" if node.is_server else "k3s-agent"


def server_url(inventory: Inventory) -> str:
    """https://SERVER:6443, the address agents join."""
    host = inventory.server.host
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{API_PORT}"


def _flag_labels(node: ClusterNode) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(node.labels.items()) if not _RESTRICTED.search(k)]


def desired_config(
    node: ClusterNode, inventory: Inventory, settings: ClusterFacts, token: SecretValue | None
) -> dict[str, Any]:
    """The config.yaml of ``node`` (an agent's holds the token: pass it, or None to plan)."""
    config: dict[str, Any] = {"node-name": node.name}
    labels = _flag_labels(node)
    if labels:
        config["node-label"] = labels
    if node.taints:
        config["node-taint"] = [str(t) for t in node.taints]
    if node.is_server:
        config.update(
            {
                "cluster-init": True,
                "tls-san": [node.host],
                "write-kubeconfig-mode": "0600",
            }
        )
        if settings.disable:
            config["disable"] = list(settings.disable)
        config.update(settings.server_config)
    else:
        config["server"] = server_url(inventory)
        config["token"] = token.reveal() if token is not None else None
    return config


def render(config: dict[str, Any]) -> str:
    """YAML text of a config (block style, the format K3s documents)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # one line per value: a long token is not folded onto the next line
    buf = io.StringIO()
    buf.write("# Written by sophia cluster up; changes here are overwritten.\n")
    yaml.dump(config, buf)
    return buf.getvalue()


def parse(text: str | None) -> dict[str, Any] | None:
    """A live config.yaml (None when absent or unreadable as a mapping)."""
    if text is None:
        return None
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except Exception:  # a hand-broken file is "different", never a crash
        return None
    return dict(data) if isinstance(data, dict) else None


def config_diff(live: dict[str, Any] | None, desired: dict[str, Any]) -> list[str]:
    """Keys that differ (a secret key's value is compared, never shown)."""
    if live is None:
        return sorted(desired)
    keys = sorted(set(live) | set(desired))
    changed = []
    for key in keys:
        want = desired.get(key)
        if key in SECRET_KEYS and want is None:
            continue  # planning without the token: cannot compare, assume unchanged
        if live.get(key) != want:
            changed.append(key)
    return changed


def installed_version(text: str) -> str | None:
    """The version in ``k3s --version`` output (None: not installed)."""
    match = _VERSION.search(text)
    return match.group(1) if match else None


@dataclass(frozen=True)
class InstallCommand:
    """The installer run on one node: argv (no secret ever) and what it means."""

    argv: list[str]
    airgap: bool


def install_command(
    node: ClusterNode, version: str, *, airgap_script: str | None
) -> InstallCommand:
    """The installer: get.k3s.io with the pinned version, or the uploaded air-gap script.

    Air-gapped, the binary is already in place: ``INSTALL_K3S_SKIP_DOWNLOAD=true``.
    """
    exec_ = "server" if node.is_server else "agent"
    env = [f"INSTALL_K3S_VERSION={version}", f"INSTALL_K3S_EXEC={exec_}"]
    if airgap_script:
        argv = ["env", *env, "INSTALL_K3S_SKIP_DOWNLOAD=true", "sh", airgap_script]
        return InstallCommand(argv, True)
    # Downloaded to a temp file first, so a failed download is an error rather than an
    # empty script piped into sh.
    script = (
        "t=$(mktemp); trap 'rm -f \"$t\"' EXIT; "
        'curl -sfL "$1" -o "$t" || exit 7; shift; env "$@" sh "$t"'
    )
    argv = ["sh", "-c", script, "sh", INSTALL_URL, *env]
    return InstallCommand(argv, False)


def parse_minor(version: str) -> tuple[int, int]:
    """(major, minor) of v1.31.4+k3s1."""
    match = re.match(r"^v(\d+)\.(\d+)\.", version)
    if not match:
        raise ValueError(f"not a K3s version: {version!r}")
    return int(match.group(1)), int(match.group(2))
