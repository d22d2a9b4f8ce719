"""Loopback SSH hosts for the cluster bootstrap: ``sophia dev hosts up|down``.

One real OpenSSH server (Debian's ``sshd``) per node of the spec, each on its own 127.0.0.1
port with its own host key and one authorized client key, sessions running as the current
user. Each sshd runs in a private mount namespace in which ``/etc/rancher``,
``/var/lib/rancher`` and ``/usr/local/bin`` are that host's own directories, so every node
has the file system view a real machine has and the bootstrap writes the real K3s paths.

They cannot run a real K3s (no download, no kernel modules). A STAND-IN, which lives only in
the source checkout's ``tests/standin/`` and never in the package, is put on their PATH:
``curl`` answers ``https://get.k3s.io`` with a stand-in installer, whose ``k3s`` records the
config and flags it was given and registers its node (labels, taints, GPU capacity) as a kwok
node in a bare local control plane that ``up`` starts next to the hosts — so everything after
the SSH step runs against a real API server. ``nvidia-smi`` and ``nvidia-ctk`` stand-ins
report the spec's GPUs. The addresses (``127.0.0.1:PORT``) and the client key path are
written into the environment's local store, so ``sophia cluster up <env>`` reaches the hosts.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.devcluster import cluster as devcluster
from sophia_platform.devcluster.components import Layout
from sophia_platform.devcluster.processes import Supervisor, is_running, log_tail
from sophia_platform.errors import ExternalError, UsageError
from sophia_platform.kube.merge import remove_from
from sophia_platform.spec import Spec

SSHD = Path("/usr/sbin/sshd")
UNSHARE = "unshare"
STANDIN_ENV = "SOPHIA_K3S_STANDIN"
# The directories of a host that are its own (bind-mounted in its mount namespace).
PRIVATE_DIRS = {
    "etc-rancher": "/etc/rancher",
    "var-lib-rancher": "/var/lib/rancher",
    "usr-local-bin": "/usr/local/bin",
}
READY_TIMEOUT_S = 20.0


def default_state_dir() -> Path:
    """$SOPHIA_DEV_HOSTS_DIR, else ~/.local/state/sophia-platform/dev-hosts."""
    return devcluster.state_dir_for("SOPHIA_DEV_HOSTS_DIR", "dev-hosts")


def default_standin() -> Path:
    """$SOPHIA_K3S_STANDIN, else ``tests/standin`` of the source checkout in the cwd."""
    override = os.environ.get(STANDIN_ENV)
    return Path(override) if override else Path.cwd() / "tests" / "standin"


@dataclass(frozen=True)
class HostSpec:
    """One loopback host to run: the node it plays and the GPUs its stand-ins report."""

    name: str
    gpu_type: str | None = None
    gpu_count: int = 0


@dataclass(frozen=True)
class Host:
    """A running (or recorded) loopback host."""

    name: str
    port: int
    directory: Path
    host_key_fingerprint: str
    running: bool = True


@dataclass(frozen=True)
class HostsResult:
    """What ``up`` started (or found running) and where the lab's API server is."""

    state_dir: Path
    client_key: Path
    kubeconfig: Path
    server: str
    hosts: list[Host] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    standin: str = ""  # the test-only k3s stand-in the hosts run


@dataclass(frozen=True)
class HostsDown:
    """What ``down`` stopped and which kube context it took out of which file."""

    stopped: list[str]
    removed_context: str | None = None
    kubeconfig: str | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keypair(path: Path) -> str:
    """Create an ed25519 key at ``path`` (+ .pub) unless present; return the public line."""
    from sophia_platform.cluster.sshlib import asyncssh

    if not path.is_file():
        key = asyncssh.generate_private_key("ssh-ed25519")
        write_text_atomic(path, key.export_private_key().decode(), mode=0o600)
        write_text_atomic(path.with_suffix(".pub"), key.export_public_key().decode())
    return path.with_suffix(".pub").read_text().strip()


def _fingerprint(path: Path) -> str:
    from sophia_platform.cluster.sshlib import asyncssh

    return str(asyncssh.read_private_key(str(path)).get_fingerprint("sha256"))


class Hosts:
    """The loopback hosts under one state directory."""

    def __init__(self, state_dir: Path, standin: Path | None = None) -> None:
        self.state_dir = state_dir
        self.standin = (standin or default_standin()).resolve()
        self.sup = Supervisor(state_dir)
        self.client_key = state_dir / "client_key"
        self.cluster_dir = state_dir / "cluster"

    def host_dir(self, name: str) -> Path:
        """Where one host keeps its config, keys and private directories."""
        return self.state_dir / "hosts" / name

    def _ports(self) -> dict[str, int]:
        path = self.state_dir / "ports.json"
        try:
            return {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
        except (OSError, ValueError):
            return {}

    def up(self, specs: Sequence[HostSpec]) -> HostsResult:
        """Start the bare control plane, then one sshd per spec (running ones are kept)."""
        self._check_tools()
        started_at = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        control = devcluster.up(self.cluster_dir, [])
        hosts, reused = self.start_hosts(specs, control.server)
        return HostsResult(
            self.state_dir,
            self.client_key,
            control.kubeconfig,
            control.server,
            hosts,
            reused,
            time.monotonic() - started_at,
            str(self.standin),
        )

    def _check_tools(self) -> None:
        if not SSHD.is_file():
            raise ExternalError(f"{SSHD} not found", hint="apt-get install openssh-server")
        if not (self.standin / "k3s" / "install.sh").is_file():
            raise UsageError(
                f"the k3s stand-in is not at {self.standin}",
                hint=f"run from a source checkout (tests/standin/ is never packaged), or pass "
                f"--stand-in DIR / set ${STANDIN_ENV} (scripts/demo sets it)",
            )

    def start_hosts(
        self, specs: Sequence[HostSpec], api_server: str
    ) -> tuple[list[Host], list[str]]:
        """One sshd per spec whose stand-in registers nodes at ``api_server``; (hosts, reused).

        Hosts already running are kept. ``up`` starts the control plane first; with no
        ``api_server`` ("") the hosts run alone and nothing can register.
        """
        self._check_tools()
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        client_pub = _keypair(self.client_key)
        ports = self._ports()
        records = self.sup.records()
        hosts, reused = [], []
        for spec in specs:
            record = records.get(spec.name)
            if record is not None and is_running(record) and spec.name in ports:
                reused.append(spec.name)
            else:
                ports[spec.name] = ports.get(spec.name) or _free_port()
                self._prepare(spec, ports[spec.name], client_pub, api_server)
                self.start(spec.name)
            hosts.append(self._host(spec.name, ports[spec.name]))
        write_text_atomic(self.state_dir / "ports.json", json.dumps(ports, indent=1))
        for host in hosts:
            self._wait_listening(host)
        return hosts, reused

    def _host(self, name: str, port: int) -> Host:
        directory = self.host_dir(name)
        record = self.sup.records().get(name)
        return Host(
            name,
            port,
            directory,
            _fingerprint(directory / "ssh_host_ed25519_key"),
            running=record is not None and is_running(record),
        )

    def _prepare(self, spec: HostSpec, port: int, client_pub: str, api_server: str) -> None:
        d = self.host_dir(spec.name)
        for sub in (*PRIVATE_DIRS, "bin", "home"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        _keypair(d / "ssh_host_ed25519_key")
        write_text_atomic(d / "authorized_keys", client_pub + "\n", mode=0o600)
        layout = Layout(self.cluster_dir)
        config = {
            **asdict(spec),
            "api_server": api_server,
            "ca_file": str(layout.pki.ca_cert),
            "cert_file": str(layout.pki.admin_cert),
            "key_file": str(layout.pki.admin_key),
            "standin": str(self.standin),
            "cluster_state": str(self.cluster_dir),
        }
        write_text_atomic(d / "standin.json", json.dumps(config, indent=1))
        path = ":".join(
            [
                str(d / "bin"),
                str(self.standin / "bin"),
                "/usr/local/bin",
                "/usr/bin",
                "/bin",
                "/usr/sbin",
                "/sbin",
            ]
        )
        lines = [
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {d / 'ssh_host_ed25519_key'}",
            f"AuthorizedKeysFile {d / 'authorized_keys'}",
            "PidFile none",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "StrictModes no",
            "PrintMotd no",
            "MaxStartups 50:30:100",
            "MaxSessions 50",
            # Its own HOME: a session's shell reads the host's (absent) rc files, not ours.
            f"SetEnv PATH={path} HOME={d / 'home'} SOPHIA_STANDIN_HOST={d}",
            "Subsystem sftp internal-sftp",
            "LogLevel ERROR",
        ]
        write_text_atomic(d / "sshd_config", "\n".join(lines) + "\n")

    def start(self, name: str) -> None:
        """Start (or restart after :meth:`stop`) one host's sshd in its mount namespace."""
        d = self.host_dir(name)
        binds = " && ".join(
            f'mkdir -p {target} && mount --bind "$1/{sub}" {target}'
            for sub, target in PRIVATE_DIRS.items()
        )
        script = f'mkdir -p /run/sshd && {binds} && exec {SSHD} -D -e -f "$1/sshd_config"'
        argv = [
            UNSHARE,
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
            "sh",
            str(d),
        ]
        self.sup.start(name, argv)

    def stop(self, name: str) -> bool:
        """Stop one host's sshd (its files stay); True if it was running."""
        record = self.sup.records().get(name)
        if record is None:
            return False
        running = is_running(record)
        if running:
            self.sup.stop(record, grace_s=5.0)
        self.sup.forget(name)
        return running

    def _wait_listening(self, host: Host) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with socket.create_connection(("127.0.0.1", host.port), timeout=1.0) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            record = self.sup.records().get(host.name)
            if record is None or not is_running(record) or time.monotonic() > deadline:
                tail = log_tail(record.log) if record else ""
                raise ExternalError(f"sshd of {host.name} did not start on {host.port}: {tail}")
            time.sleep(0.05)

    def status(self) -> list[Host]:
        """Every recorded host, running or not."""
        ports = self._ports()
        return [self._host(n, p) for n, p in ports.items() if self.host_dir(n).is_dir()]

    def remember_context(self, context: str, server: str) -> None:
        """Note the kube context ``sophia cluster up`` will merge for these hosts (for down)."""
        path = self.state_dir / "context.json"
        write_text_atomic(path, json.dumps({"context": context, "server": server}))

    def down(self, kubeconfig: Path | None = None) -> HostsDown:
        """Stop every sshd and the control plane, and remove the state directory.

        The remembered context is taken out of ``kubeconfig`` if it still points at this
        control plane (``sophia cluster up`` merged it there).
        """
        stopped = [n for n in list(self.sup.records()) if self.stop(n)]
        removed = None
        try:
            noted = json.loads((self.state_dir / "context.json").read_text())
        except (OSError, ValueError):
            noted = None
        if noted and kubeconfig is not None:
            merged = remove_from(kubeconfig, noted["context"], server=noted["server"])
            removed = noted["context"] if merged.removed else None
        devcluster.down(self.cluster_dir)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        return HostsDown(stopped, removed, str(kubeconfig) if removed else None)


def specs_of(spec: Spec) -> list[HostSpec]:
    """One host per node of the spec, with the node's GPUs."""
    return [
        HostSpec(name, node.gpu_type, node.gpu.count if node.gpu else 0)
        for name, node in spec.nodes.items()
    ]


def write_addresses(spec: Spec, env: str, result: HostsResult) -> None:
    """Point ``env``'s store at the hosts: NODE_*_HOST=127.0.0.1:PORT, the key file variable."""
    from sophia_platform.config import SecretValue
    from sophia_platform.secrets.providers.local import LocalProvider
    from sophia_platform.secrets.session import provider_context

    store = LocalProvider(provider_context(spec, env))
    values = store.load()
    ports = {h.name: h.port for h in result.hosts}
    for name, node in spec.nodes.items():
        if node.address_var and name in ports:
            values[node.address_var] = SecretValue(f"127.0.0.1:{ports[name]}")
    for ref in [spec.cluster.ssh.key, *(n.key for n in spec.nodes.values())]:
        var = ref[2:-1] if ref and ref.startswith("${") else None
        if var:
            values[var] = SecretValue(str(result.client_key))
    store.save(values)


def up_for_spec(
    spec_path: Path | None, env: str, *, state_dir: Path | None, standin: Path | None
) -> HostsResult:
    """``sophia dev hosts up``: hosts for every node of the spec, addresses into ``env``."""
    from sophia_platform.spec import load_spec

    spec = load_spec(spec_path)
    if env not in spec.environments:
        raise UsageError(
            f"unknown environment {env!r}; sophia.yaml defines {', '.join(spec.environments)}"
        )
    hosts = Hosts(state_dir or default_state_dir(), standin)
    result = hosts.up(specs_of(spec))
    write_addresses(spec, env, result)
    hosts.remember_context(spec.environments[env].context, result.server)
    return result
