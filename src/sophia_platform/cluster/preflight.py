"""Preflight of one host, from one probe round trip: what it is and whether K3s can go on it.

Checked: reachable (the SSH session exists), Linux on amd64/arm64, passwordless privilege
(``sudo -n`` — a host that wants a password fails at once, never hangs), ports 6443
(server) and 10250 free unless K3s already runs there, the clock within ``MAX_SKEW_S`` of
ours, and on GPU nodes ``nvidia-smi`` seeing the spec's GPUs and the NVIDIA container toolkit
(``nvidia-ctk`` or ``nvidia-container-runtime``) present. The same probe tells the plan the
installed K3s version and the live config.yaml, and on the server the join token and
k3s.yaml: one command on one channel per host, everything ``plan`` needs in its output.
"""

from __future__ import annotations

import secrets
import shlex
import time
from dataclasses import dataclass, field

from sophia_platform.cluster import k3s
from sophia_platform.cluster.ssh import Completed, Session, SshError, last_line
from sophia_platform.config import SecretValue

MAX_SKEW_S = 5.0
SUPPORTED_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
PROBE_TIMEOUT_S = 20.0

# Unprivileged facts, one `key=value` line each (stderr dropped: a missing tool is a fact).
_FACTS = r"""{
echo "kernel=$(uname -s)"
echo "arch=$(uname -m)"
echo "os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null)"
echo "time=$(date +%s)"
echo "uid=$(id -u)"
v=$(PATH="$PATH:/usr/local/bin" k3s --version 2>/dev/null | head -n 1); echo "k3s=$v"
echo "gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')"
t=$(command -v nvidia-ctk || command -v nvidia-container-runtime || true); echo "toolkit=$t"
echo "unit=$(systemctl is-active "$1" 2>/dev/null)"
l=$(awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' \
  /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' ')
echo "listen=$l"
} 2>/dev/null
"""
# The privileged part: each file framed by lines holding a per-run nonce ($1), so content
# is returned byte for byte; its stderr (sudo's "a password is required") is the probe's.
_READ = r"""n=$1; shift
for f do
  if [ -f "$f" ]; then
    printf '@@%s+ %s\n' "$n" "$f"; cat -- "$f" || exit 4; printf '\n@@%s.\n' "$n"
  else
    printf '@@%s- %s\n' "$n" "$f"
  fi
done
"""


@dataclass(frozen=True)
class Probe:
    """What one host said about itself (on the server: also its join token and k3s.yaml)."""

    facts: dict[str, str]
    skew_s: float
    config_text: str | None
    privileged: bool
    privilege_error: str = ""
    token: SecretValue | None = field(default=None, repr=False)
    kubeconfig: str | None = field(default=None, repr=False)

    @property
    def version(self) -> str | None:
        """The installed K3s version (None: not installed)."""
        return k3s.installed_version(self.facts.get("k3s", ""))

    @property
    def unit_state(self) -> str:
        """``systemctl is-active`` of the node's K3s unit ("" when systemctl is missing)."""
        return self.facts.get("unit", "")

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


def files_of(is_server: bool) -> tuple[str, ...]:
    """The files the probe reads with privilege: config.yaml; on the server token, k3s.yaml."""
    if is_server:
        return (k3s.CONFIG_PATH, k3s.TOKEN_PATH, k3s.KUBECONFIG_PATH)
    return (k3s.CONFIG_PATH,)


def probe_script(session: Session, nonce: str) -> str:
    """The one probe command: facts, then the privileged reads (``sudo -n`` where needed)."""
    paths = files_of(session.node.is_server)
    read = session.command(["sh", "-c", _READ, "sh", nonce, *paths], privileged=True)
    unit = shlex.quote(k3s.service(session.node))  # $1 of the facts: the unit's state
    return f'set -- {unit}\n{_FACTS}{read}\necho "@@{nonce} exit=$?"\n'


async def probe(session: Session) -> Probe:
    """Run the probe on one channel: one round trip per host, whatever the host's role."""
    nonce = secrets.token_hex(8)
    sent = time.time()
    done = await session.script(
        probe_script(session, nonce), timeout=PROBE_TIMEOUT_S, check=False, what="probe"
    )
    got = time.time()
    return parse_probe(session.node.name, done, nonce, sent, got)


def parse_probe(node: str, done: Completed, nonce: str, sent: float, got: float) -> Probe:
    """The Probe in a probe's output (errors name stderr only: stdout may hold the token)."""
    head, sep, _ = done.stdout.partition(f"@@{nonce}")
    status_line = f"@@{nonce} exit="
    at = done.stdout.rfind(status_line)
    if not sep or at < 0:
        raise SshError(node, f"probe failed (exit {done.exit_status}): {last_line(done.stderr)}")
    exit_text = done.stdout[at + len(status_line) :].split("\n", 1)[0].strip()
    facts = {}
    for line in head.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            facts[key.strip()] = value.strip()
    skew = float(facts.get("time") or got) - (sent + got) / 2
    if exit_text != "0":
        return Probe(facts, skew, None, False, last_line(done.stderr, "failed"))
    files = _framed(node, done.stdout[len(head) : at], nonce)
    token = files.get(k3s.TOKEN_PATH)
    return Probe(
        facts,
        skew,
        files.get(k3s.CONFIG_PATH),
        True,
        token=SecretValue(token.strip()) if token and token.strip() else None,
        kubeconfig=files.get(k3s.KUBECONFIG_PATH),
    )


def _framed(node: str, text: str, nonce: str) -> dict[str, str | None]:
    """Each path's content (None: absent) in the privileged part's framed output."""
    out: dict[str, str | None] = {}
    opening, closing = f"@@{nonce}", f"\n@@{nonce}.\n"
    pos = 0
    while True:
        at = text.find(opening, pos)
        if at < 0:
            return out
        eol = text.find("\n", at)
        mark, path = text[at + len(opening) : eol].split(" ", 1)
        if mark == "-":
            out[path] = None
            pos = eol + 1
            continue
        end = text.find(closing, eol + 1)
        if end < 0:
            raise SshError(node, f"probe output cut short in {path}")
        out[path] = text[eol + 1 : end]
        pos = end + len(closing)


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
