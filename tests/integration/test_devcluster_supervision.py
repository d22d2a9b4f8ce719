"""Supervision of the local control plane: crashes during `up`, stale PID files, the CLI."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sophia_platform.cli.main import main
from sophia_platform.devcluster import cluster
from sophia_platform.devcluster.components import COMPONENTS
from sophia_platform.devcluster.nodes import NodeSpec
from sophia_platform.devcluster.processes import Supervisor, is_running
from sophia_platform.errors import ExternalError
from tests.plugins.k8s import K8sCluster, processes_mentioning

pytestmark = pytest.mark.cluster

NODES = [NodeSpec("gpu-a", gpu_type="A100", gpu_count=2), NodeSpec("cpu-a")]


@pytest.fixture
def state_dir(k8s_binaries: None, tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "cluster"
    yield directory
    cluster.down(directory)
    assert processes_mentioning(directory) == []


def test_component_dying_during_up_fails_with_its_log_and_stops_the_rest(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "kwok"
    broken.write_text("#!/bin/sh\necho 'kwok: cannot load stages: boom' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("SOPHIA_KWOK_BIN", str(broken))

    with pytest.raises(ExternalError) as err:
        cluster.up(state_dir, NODES, timeout_s=60)
    message = str(err.value)
    assert "kwok exited with status 3" in message
    assert "cannot load stages: boom" in message
    # etcd, the API server, controller-manager and scheduler were stopped again.
    assert Supervisor(state_dir).records() == {}
    assert processes_mentioning(state_dir) == []


def test_up_is_idempotent_and_replaces_a_crashed_cluster(state_dir: Path) -> None:
    first = cluster.up(state_dir, NODES)
    assert not first.reused
    assert first.nodes_created == ["gpu-a", "cpu-a"]

    again = cluster.up(state_dir, NODES)
    assert again.reused
    assert again.pids == first.pids
    assert again.nodes_created == []

    # The spec changed: one node gone, one new; the running cluster follows it.
    changed = cluster.up(state_dir, [NODES[0], NodeSpec("gpu-b", gpu_type="A10", gpu_count=1)])
    assert changed.reused
    assert changed.nodes_created == ["gpu-b"]
    live = {n.name: n for n in cluster.status(state_dir).nodes}
    assert set(live) == {"gpu-a", "gpu-b"}
    assert live["gpu-b"].gpu_allocatable == 1

    # Simulate a crash: the scheduler dies, its PID file stays behind.
    scheduler = Supervisor(state_dir).records()["kube-scheduler"]
    os.kill(scheduler.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while is_running(scheduler) and time.monotonic() < deadline:
        time.sleep(0.05)
    report = cluster.status(state_dir)
    assert not report.running
    assert report.stale_pid_files == ["kube-scheduler"]

    replaced = cluster.up(state_dir, NODES)
    assert not replaced.reused
    assert replaced.stale_pid_files == ["kube-scheduler"]
    old_pids = set(first.pids.values())
    assert not old_pids & set(replaced.pids.values())
    for pid in old_pids - {scheduler.pid}:
        assert (
            not Path(f"/proc/{pid}/cmdline").exists()
            or str(state_dir).encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        )

    done = cluster.down(state_dir)
    assert sorted(done.stopped) == sorted(replaced.pids)
    assert done.killed == []
    assert not state_dir.exists()


def test_down_keep_keeps_logs(state_dir: Path) -> None:
    cluster.up(state_dir, NODES[:1])
    result = cluster.down(state_dir, keep=True)
    assert result.removed_state is False
    assert (state_dir / "logs" / "kube-apiserver.log").stat().st_size > 0
    assert Supervisor(state_dir).records() == {}


def test_cli_status_json_reports_components_and_gpus(
    k8s_cluster: K8sCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dev", "cluster", "status", "--state-dir", str(k8s_cluster.state_dir), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads(out)
    assert data["running"] is True
    assert data["server_version"].startswith("v1.")
    assert {c["name"] for c in data["components"]} == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "local-path-provisioner",
    }
    assert all(c["running"] for c in data["components"])
    gpus = {n["name"]: n["gpu_allocatable"] for n in data["nodes"]}
    assert gpus["ai-core"] == 1


def test_cli_status_without_cluster_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", "cluster", "status", "--state-dir", str(tmp_path / "none")]) == 1
    assert "sophia dev cluster up" in capsys.readouterr().err


def test_cli_kubeconfig_prints_the_path(
    k8s_cluster: K8sCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dev", "cluster", "kubeconfig", "--state-dir", str(k8s_cluster.state_dir)])
    assert code == 0
    assert capsys.readouterr().out.strip() == str(k8s_cluster.kubeconfig)


def test_up_retries_when_a_chosen_port_was_taken(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from sophia_platform.devcluster import components

    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    real_allocate = components.Ports.allocate
    calls: list[components.Ports] = []

    def allocate() -> components.Ports:
        ports = real_allocate()
        if not calls:  # the first pick loses the race for the API server's port
            ports = components.Ports(**{**vars(ports), "apiserver": taken})
        calls.append(ports)
        return ports

    monkeypatch.setattr(components.Ports, "allocate", staticmethod(allocate))
    try:
        result = cluster.up(state_dir, NODES[:1])
    finally:
        blocker.close()
    assert len(calls) == 2
    assert result.server == f"https://127.0.0.1:{calls[1].apiserver}"


def test_cluster_of_a_killed_session_is_reaped_by_the_next(k8s_binaries: None) -> None:
    import subprocess
    import sys
    import tempfile

    from tests.plugins import k8s

    # A "session" that starts a cluster and dies without its teardown (as under kill -9).
    script = f"""
import json, os, tempfile
from pathlib import Path
from sophia_platform.devcluster import cluster
from sophia_platform.devcluster.nodes import NodeSpec
from sophia_platform.devcluster.processes import proc_start_ticks
d = Path(tempfile.mkdtemp(prefix={k8s._SESSION_PREFIX!r}))
me = os.getpid()
(d / "owner.json").write_text(json.dumps({{"pid": me, "start_ticks": proc_start_ticks(me)}}))
cluster.up(d, [NodeSpec("n1")])
print(d)
os._exit(0)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    abandoned = Path(proc.stdout.strip().splitlines()[-1])
    assert abandoned.parent == Path(tempfile.gettempdir())
    assert len(processes_mentioning(abandoned)) == len(COMPONENTS)

    k8s._reap_abandoned_sessions()
    assert processes_mentioning(abandoned) == []
    assert not abandoned.exists()
