"""Start, track and stop the control plane's child processes by PID.

Each component runs in its own session (so it outlives ``sophia dev cluster up`` and a
Ctrl-C in the terminal does not kill it) with stdout and stderr in ``logs/<name>.log``. Its
PID file records the PID *and* the process start time from ``/proc``, so a PID file left by
a crash is recognised as stale even after the kernel reused the PID for something else.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sophia_platform import runner
from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.errors import ExternalError


@dataclass(frozen=True)
class ProcessRecord:
    """What a PID file says about one started component."""

    name: str
    pid: int
    start_ticks: int
    argv: tuple[str, ...]
    log: Path


def proc_start_ticks(pid: int) -> int | None:
    """Return the start time (clock ticks since boot) of a live process, else None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited; it only waits for its parent to reap it
        return None
    return int(fields[19])  # field 22 of stat, counting from the state field (3)


def is_running(record: ProcessRecord) -> bool:
    """Tell whether the recorded process is still alive (and is the same process)."""
    return proc_start_ticks(record.pid) == record.start_ticks


class Supervisor:
    """Owns the PID files and logs under one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.pid_dir = state_dir / "pids"
        self.log_dir = state_dir / "logs"
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ProcessRecord:
        """Start ``argv`` detached, with its output in the component's log, and record it.

        The child's environment is the runner's allow-list plus ``env`` (nothing else of ours).
        """
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            try:
                child = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=runner.environment(env=env),
                    cwd=cwd,
                )
            except OSError as exc:
                raise ExternalError(f"cannot start {name} ({argv[0]}): {exc}") from exc
        self._children[name] = child
        ticks = proc_start_ticks(child.pid)
        start = ticks if ticks is not None else -1
        record = ProcessRecord(name, child.pid, start, tuple(argv), log)
        self._write(record)
        return record

    def _write(self, record: ProcessRecord) -> None:
        data = {
            "name": record.name,
            "pid": record.pid,
            "start_ticks": record.start_ticks,
            "argv": list(record.argv),
            "log": str(record.log),
        }
        write_text_atomic(self.pid_dir / f"{record.name}.json", json.dumps(data, indent=1))

    def records(self) -> dict[str, ProcessRecord]:
        """Every PID file in the state directory, running or stale."""
        found: dict[str, ProcessRecord] = {}
        for path in sorted(self.pid_dir.glob("*.json")):
            try:
                data = json.loads(path.read_text())
                found[data["name"]] = ProcessRecord(
                    name=data["name"],
                    pid=int(data["pid"]),
                    start_ticks=int(data["start_ticks"]),
                    argv=tuple(data["argv"]),
                    log=Path(data["log"]),
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a torn or foreign file is not ours to act on
        return found

    def forget(self, name: str) -> None:
        """Remove a component's PID file (after it stopped, or when it is stale)."""
        (self.pid_dir / f"{name}.json").unlink(missing_ok=True)
        self._children.pop(name, None)

    def exit_code(self, record: ProcessRecord) -> int | None:
        """Return the exit status if this supervisor started the process and it has exited."""
        child = self._children.get(record.name)
        if child is None or child.pid != record.pid:
            return None
        return child.poll()

    def stop(self, record: ProcessRecord, *, grace_s: float = 10.0) -> bool:
        """SIGTERM, wait up to ``grace_s``, then SIGKILL. True if it had to be killed."""
        killed = False
        if is_running(record):
            _signal(record.pid, signal.SIGTERM)
            if not self._wait_gone(record, grace_s):
                _signal(record.pid, signal.SIGKILL)
                killed = True
                self._wait_gone(record, 5.0)
        self._reap(record)
        self.forget(record.name)
        return killed

    def _wait_gone(self, record: ProcessRecord, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._reap(record)
            if not is_running(record):
                return True
            time.sleep(0.05)
        return not is_running(record)

    def _reap(self, record: ProcessRecord) -> None:
        # A component started by this process (even through another Supervisor instance, as
        # in a test session) stays a zombie until waited for; reap it so the PID is freed.
        child = self._children.get(record.name)
        if child is not None and child.pid == record.pid:
            child.poll()
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(record.pid, os.WNOHANG)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def log_tail(path: Path, lines: int = 15) -> str:
    """Return the last ``lines`` lines of a log file (empty if it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


@contextlib.contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Serialise start/stop on one state directory (two terminals, two test sessions).

    The control plane and the GitOps loop both hold it around ``up`` and ``down``.
    """
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (state_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class StartupWatch:
    """Waits for a condition while checking that the started processes are still alive.

    A process that exits during start-up ends the wait at once with its exit status and the
    last lines of its log, instead of a timeout.
    """

    def __init__(self, sup: Supervisor, started: dict[str, ProcessRecord]) -> None:
        self.sup = sup
        self.started = started

    def check_alive(self) -> None:
        """Raise if a started process has died."""
        for name, record in self.started.items():
            if not is_running(record):
                code = self.sup.exit_code(record)
                how = f"exited with status {code}" if code is not None else "died"
                tail = log_tail(record.log)
                raise ExternalError(
                    f"{name} {how} during start-up; last lines of {record.log}:\n{tail}"
                )

    def until(self, what: str, check: Callable[[], bool], timeout_s: float) -> None:
        """Poll ``check`` (backing off to 0.5 s) until true; raise on a death or the timeout."""
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            self.check_alive()
            if check():
                return
            if time.monotonic() > deadline:
                logs = ", ".join(str(r.log) for r in self.started.values())
                raise ExternalError(
                    f"timed out after {timeout_s:.0f}s waiting for {what}; logs: {logs}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
