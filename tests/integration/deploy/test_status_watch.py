"""``sophia status local --watch`` as a real process against the real local control plane."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from .conftest import CANARY, DeployEnv

pytestmark = pytest.mark.cluster
SOPHIA = Path(sys.executable).parent / "sophia"


class Captured:
    """Collects a pipe in a thread so the watched process never blocks on a full pipe."""

    def __init__(self, pipe: IO[str]) -> None:
        self._chunks: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._thread.start()

    def _pump(self, pipe: IO[str]) -> None:
        for line in pipe:
            with self._lock:
                self._chunks.append(line)

    def text(self) -> str:
        with self._lock:
            return "".join(self._chunks)

    def join(self) -> str:
        self._thread.join(10)
        return self.text()


def _wait_for(
    check: Callable[[], bool], what: str, proc: subprocess.Popen[str], out: Captured
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"no {what} (exit {proc.poll()}); output so far:\n{out.text()[-3000:]}")


def _frames(text: str) -> list[str]:
    """Split the printed output into refreshes at their time headers."""
    frames: list[str] = []
    for line in text.splitlines():
        if "(Ctrl-C stops)" in line:
            frames.append("")
        elif frames:
            frames[-1] += line + "\n"
    return frames


def _verdict(frame: str) -> str:
    lines = [line.strip() for line in frame.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _api_row(frame: str) -> list[str]:
    """The api row's cells (service, ready, available, image tag, ...)."""
    for line in frame.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if cells and cells[0] == "api":
            return cells
    return []


def test_status_watch_follows_a_scale_and_stops_cleanly_on_sigint(denv: DeployEnv) -> None:
    assert denv.deploy().outcome == "succeeded"
    env = {
        **os.environ,
        "KUBECONFIG": str(denv.kubeconfig),
        "SOPHIA_SPEC": str(denv.spec_path),
        "COLUMNS": "200",  # not a terminal: keep the table rows on one line each
    }
    env.pop("SOPHIA_DEBUG", None)
    proc = subprocess.Popen(
        [str(SOPHIA), "status", "local", "--watch", "--interval", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a runner started in the background may ignore SIGINT; the CLI must see the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Captured(proc.stdout), Captured(proc.stderr)
    try:

        def healthy_with_three_api() -> bool:
            done = _frames(out.text())[:-1]  # the last one may still be printing
            return any(_verdict(f) == "healthy" and _api_row(f)[1:2] == ["3/3"] for f in done)

        _wait_for(healthy_with_three_api, "healthy frame with api 3/3", proc, out)
        seen = len(_frames(out.text()))

        denv.apps().patch_namespaced_deployment_scale(
            "api", denv.namespace, {"spec": {"replicas": 1}}
        )

        def shows_the_scale() -> bool:
            done = _frames(out.text())[seen:-1]
            return any(
                "drift: api: replicas 1 (release says 3)" in f
                and _api_row(f)[1:2] == ["1/1"]
                and _verdict(f) == "drifted"
                for f in done
            )

        _wait_for(shows_the_scale, "frame showing api scaled to 1", proc, out)
        assert proc.poll() is None  # still watching: the change did not end it

        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout, stderr = out.join(), err.join()
    assert code == 0, stderr
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)  # reaped: the process is gone
    assert "Traceback" not in stdout + stderr
    assert "watch stopped" in stderr
    assert len(_frames(stdout)) >= 3
    assert CANARY not in stdout + stderr


def test_status_watch_refuses_json(denv: DeployEnv) -> None:
    proc = subprocess.run(
        [str(SOPHIA), "--spec", str(denv.spec_path), "status", "local", "--watch", "--json"],
        env={**os.environ, "KUBECONFIG": str(denv.kubeconfig)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "poll `sophia status --json`" in proc.stderr and "Traceback" not in proc.stderr


def test_status_watch_on_a_terminal_redraws_and_ctrl_c_exits_0(denv: DeployEnv) -> None:
    import pty

    assert denv.deploy().outcome == "succeeded"
    master, slave = pty.openpty()
    env = {**os.environ, "KUBECONFIG": str(denv.kubeconfig), "TERM": "xterm", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [str(SOPHIA), "--spec", str(denv.spec_path), "status", "local", "--watch"],
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        # two redraws: the live view moves the cursor up over the previous frame
        while seen.count(b"(Ctrl-C stops)") < 2 and time.monotonic() < deadline:
            seen += os.read(master, 65536)
        assert seen.count(b"(Ctrl-C stops)") >= 2, seen[-2000:]
        assert b"\x1b[1A\x1b[2K" in seen  # cursor up + erase line: redrawn in place
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = seen.decode(errors="replace")
    assert code == 0, text[-2000:]
    assert "watch stopped" in text and "Traceback" not in text
    assert CANARY not in text
