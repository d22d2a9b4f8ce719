"""Preflight of one host, from one probe round trip: what it is and whether K3s can go on it.

Checked: reachable (the SSH session exists), Linux on amd64/arm64, passwordless privilege
(``sudo -n true`` — a host that wants a password fails at once, never hangs), ports 6443
(server) and 10250 free unless K3s already runs there, the clock within ``MAX_SKEW_S`` of
ours, and on GPU nodes ``nvidia-smi`` seeing the spec's GPUs and the NVIDIA container toolkit
(``nvidia-ctk`` or ``nvidia-container-runtime``) present. The same probe tells the plan the
installed K3s version and the live config.yaml.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from sophia_platform.cluster import k3s
from sophia_platform.cluster.ssh import Completed, Session

MAX_SKEW_S = 5.0
SUPPORTED_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
PROBE_TIMEOUT_S = 20.0

_PROBE = r"""
echo "kernel=$(uname -s)"
echo "arch=$(uname -m)"
echo "os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null)"
echo "time=$(date +%s)"
echo "uid=$(id -u)"
v=$(PATH="$PATH:/usr/local/bin" k3s --version 2>/dev/null | head -n 1); echo "k3s=$v"
echo "gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')"
t=$(command -v nvidia-ctk || command -v nvidia-container-runtime || true); echo "toolkit=$t"
l=$(awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' \
  /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' ')
echo "listen=$l"
"""


@dataclass(frozen=True)
class Probe:
    """What one host said about itself."""

    facts: dict[str, str]
    skew_s: float
    config_text: str | None
    privileged: bool
    privilege_error: str = ""

    @property
    def version(self) -> str | None:
        """The installed K3s version (None: not installed)."""
        return k3s.installed_version(self.facts.get("k3s", ""))

    def listening(self) -> set[int]:
        """TCP ports in LISTEN state."""
        return {int(p, 16) for p in self.facts.get("listen", "").split() if p}


@dataclass(frozen=True)
class Preflight:
    """The checks of one host: problems (empty: good to go)."""

    node: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


async def probe(session: Session) -> Probe:
    """Run the probe script and read config.yaml with privilege (``sudo -n`` where needed).

    Both run at once, on two channels of the one connection (one round trip, not two).
    """
    sent = time.time()

    async def facts_script() -> tuple[Completed, float]:
        done = await session.script(_PROBE, timeout=PROBE_TIMEOUT_S, what="probe")
        return done, time.time()

    (done, got), read = await asyncio.gather(
        facts_script(),
        session.run(
            [
                "sh",
                "-c",
                'if [ -f "$1" ]; then cat -- "$1"; else echo "#absent"; fi',
                "sh",
                k3s.CONFIG_PATH,
            ],
            privileged=True,
            check=False,
            timeout=PROBE_TIMEOUT_S,
            what="privileged read",
        ),
    )
    facts = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            facts[key.strip()] = value.strip()
    skew = float(facts.get("time") or got) - (sent + got) / 2
    if not read.ok:
        reason = (read.stderr.strip().splitlines() or ["failed"])[-1]
        return Probe(facts, skew, None, False, reason)
    text = None if read.stdout.startswith("#absent") else read.stdout
    return Probe(facts, skew, text, True)


def check(node_name: str, is_server: bool, gpu_count: int, privilege: str, p: Probe) -> Preflight:
    """Judge a probe against what the node must become."""
    problems = []
    if p.facts.get("kernel") != "Linux":
        problems.append(f"not Linux ({p.facts.get('kernel') or 'unknown'})")
    arch = p.facts.get("arch", "")
    if arch not in SUPPORTED_ARCH:
        problems.append(f"unsupported architecture {arch or 'unknown'} (K3s: amd64, arm64)")
    if not p.privileged:
        how = "sudo -n" if privilege == "sudo" else "root"
        problems.append(f"no passwordless privilege ({how}): {p.privilege_error}")
    elif privilege == "root" and p.facts.get("uid") != "0":
        problems.append("privilege: root, but the SSH user is not root (set privilege: sudo)")
    if p.version is None:
        wanted = [k3s.API_PORT, k3s.KUBELET_PORT] if is_server else [k3s.KUBELET_PORT]
        busy = sorted(set(wanted) & p.listening())
        if busy:
            problems.append(f"port(s) {', '.join(map(str, busy))} already in use")
    if abs(p.skew_s) > MAX_SKEW_S:
        problems.append(f"clock is {p.skew_s:+.0f}s off ours (max {MAX_SKEW_S:.0f}s; run NTP)")
    if gpu_count:
        seen = int(p.facts.get("gpus") or 0)
        if seen == 0:
            problems.append("nvidia-smi finds no GPU (install the NVIDIA driver)")
        elif seen < gpu_count:
            problems.append(f"nvidia-smi finds {seen} GPU(s), the spec says {gpu_count}")
        if not p.facts.get("toolkit"):
            problems.append(
                "NVIDIA container toolkit missing (nvidia-ctk / nvidia-container-runtime); "
                "install it before K3s so containerd gets the nvidia runtime"
            )
    return Preflight(node_name, problems)
