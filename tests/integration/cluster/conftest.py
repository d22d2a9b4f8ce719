"""Five real OpenSSH servers on loopback (one per node of the example spec) and the bare local
control plane the stand-in k3s registers nodes in (see tests/standin/README.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sophia_platform.devcluster import hosts as dev_hosts
from sophia_platform.resources import example_spec_path

ROOT = Path(__file__).resolve().parents[3]
STANDIN = ROOT / "tests" / "standin"
CANARY = "K10canary0c7d1e5a9f3b::server:canary-join-token-77f1"


@dataclass
class Lab:
    """The lab environment: spec copy, hosts, kubeconfig, env for the CLI."""

    root: Path
    spec: Path
    hosts: dev_hosts.Hosts
    result: dev_hosts.HostsResult
    kubeconfig: Path
    env: dict[str, str] = field(default_factory=dict)

    def sophia(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """Run the real CLI as a new process (argv checked by the canary watcher)."""
        return subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            cwd=self.root,
        )

    def argv(self, *args: str) -> list[str]:
        """The argv of the real CLI with this lab's spec."""
        return [sys.executable, "-m", "sophia_platform.cli.main", "--spec", str(self.spec), *args]

    def api(self):  # type: ignore[no-untyped-def]
        from kubernetes import client, config

        return client.CoreV1Api(
            config.new_client_from_config(config_file=str(self.kubeconfig), context="sophia-lab")
        )


def _binaries_or_skip() -> None:
    from sophia_platform.devcluster import toolchain

    if toolchain.missing_tools() and not toolchain.go_available():
        pytest.skip("LOCAL CLUSTER TESTS SKIPPED: control-plane binaries missing, no Go")
    if not dev_hosts.SSHD.is_file():
        pytest.fail("sshd missing: scripts/setup installs openssh-server")


def set_standin(hosts: dev_hosts.Hosts, name: str, **settings: object) -> None:
    """Change what one host's stand-in k3s does (its standin.json), e.g. a canary join token."""
    path = hosts.host_dir(name) / "standin.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **settings}, indent=1))


def make_spec(directory: Path, extra: str = "") -> Path:
    """The example spec, with a GPU taint on `data` (the device plugin must tolerate it)."""
    text = example_spec_path().read_text()
    text = text.replace(
        "    labels: {sophia.dev/pool: data}\n",
        "    labels: {sophia.dev/pool: data}\n    taints: ['nvidia.com/gpu=present:NoSchedule']\n",
    )
    path = directory / "sophia.yaml"
    path.write_text(text + extra)
    return path


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    _binaries_or_skip()
    root = Path(tempfile.mkdtemp(prefix="sophia-lab-"))
    spec_path = make_spec(root)
    env = {
        **os.environ,
        "SOPHIA_SECRETS_KEY_FILE": str(root / "secrets.key"),
        "KUBECONFIG": str(root / "kube" / "config"),
        "COLUMNS": "200",
    }
    env.pop("SOPHIA_KNOWN_HOSTS", None)
    old = dict(os.environ)
    os.environ.update({k: env[k] for k in ("SOPHIA_SECRETS_KEY_FILE", "KUBECONFIG")})
    from sophia_platform.spec import load_spec

    spec = load_spec(spec_path)
    h = dev_hosts.Hosts(root / "hosts", STANDIN)
    try:
        result = h.up(dev_hosts.specs_of(spec))
        set_standin(h, "control", token=CANARY)
        dev_hosts.write_addresses(spec, "lab", result)
        yield Lab(root, spec_path, h, result, root / "kube" / "config", env)
    finally:
        h.down()
        os.environ.clear()
        os.environ.update(old)
        shutil.rmtree(root, ignore_errors=True)


class ArgvWatcher:
    """Scans every process's argv (/proc/*/cmdline) while a command runs."""

    def __init__(self, needle: str) -> None:
        self.needle = needle.encode()
        self.hits: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.scans = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    cmdline = (proc / "cmdline").read_bytes()
                except OSError:
                    continue
                if self.needle in cmdline:
                    self.hits.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
            self.scans += 1

    def __enter__(self) -> ArgvWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
