from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from sophia_platform.devcluster.processes import Supervisor, is_running, log_tail


def _wait_dead(sup: Supervisor, name: str, timeout: float = 5.0) -> None:
    record = sup.records()[name]
    deadline = time.monotonic() + timeout
    while is_running(record) and time.monotonic() < deadline:
        sup.exit_code(record)  # reaps our zombie child
        time.sleep(0.02)


def test_start_records_pid_and_log_then_stop_terminates(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path)
    record = sup.start("sleeper", ["sh", "-c", "echo started; exec sleep 60"])
    assert is_running(record)
    assert sup.records()["sleeper"].pid == record.pid
    deadline = time.monotonic() + 5
    while "started" not in log_tail(record.log) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log_tail(record.log) == "started"

    killed = sup.stop(record, grace_s=5)
    assert killed is False
    assert not is_running(record)
    assert sup.records() == {}


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path)
    script = "trap '' TERM; echo ready; while :; do sleep 1; done"
    record = sup.start("stubborn", ["sh", "-c", script])
    deadline = time.monotonic() + 5
    while "ready" not in log_tail(record.log) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sup.stop(record, grace_s=0.5) is True
    assert not is_running(record)


def test_crashed_process_leaves_a_stale_pid_file(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path)
    record = sup.start("crasher", ["sleep", "60"])
    os.kill(record.pid, signal.SIGKILL)
    _wait_dead(sup, "crasher")
    # A new supervisor (a later `sophia` run) sees the PID file but knows the process is gone.
    later = Supervisor(tmp_path)
    stale = later.records()["crasher"]
    assert stale.pid == record.pid
    assert not is_running(stale)


def test_reused_pid_is_not_mistaken_for_our_process(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path)
    record = sup.start("sleeper", ["sleep", "60"])
    pid_file = tmp_path / "pids" / "sleeper.json"
    data = json.loads(pid_file.read_text())
    data["start_ticks"] -= 1  # as if the PID now belonged to a different, later process
    pid_file.write_text(json.dumps(data))
    assert not is_running(Supervisor(tmp_path).records()["sleeper"])
    sup.stop(record, grace_s=5)


def test_log_tail_of_missing_file_is_empty(tmp_path: Path) -> None:
    assert log_tail(tmp_path / "nope.log") == ""
