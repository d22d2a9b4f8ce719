"""The one way Sophia runs an external program (helm, git, go via build.sh, ssh to come).

- argv lists only, never a shell string;
- a timeout on every run;
- stdin closed unless the caller passes ``input`` (the way to hand a program a secret);
- an environment built from an allow-list, not inherited: a child sees ``PATH``, ``HOME``, the
  locale and the XDG/temp directories, plus exactly what its caller adds (``inherit`` names or
  ``PREFIX*`` patterns copied from our environment, ``env`` values set outright). Tokens in our
  own environment (``PULUMI_ACCESS_TOKEN``, ``GITHUB_TOKEN``, ...) never reach helm or git;
- failures become one :class:`RunError` (an ``ExternalError``: exit 3) whose message names the
  program and carries its last stderr line;
- the command is logged (``logging`` at DEBUG, logger ``sophia_platform.runner``) in a redacted
  form: values the caller marks secret, values of ``--password``-like flags and ``x.password=v``
  assignments become ``***``; of ``env`` only the names are logged. The same redaction applies to
  stderr carried into the error.

Long-running daemons (the local control plane's components) are started by
:mod:`sophia_platform.devcluster.processes`, with an environment from :func:`environment`.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr, Generic

from sophia_platform.errors import ExternalError

log = logging.getLogger(__name__)

# What every child gets from our environment; everything else must be asked for.
BASE_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TMPDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
)
# Flags whose next argument is a credential, and assignment keys that name one.
_SECRET_FLAGS = frozenset(
    {"--password", "--token", "--client-secret", "--access-token", "--passphrase"}
)
_SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key|credential)")
MASK = "***"


@dataclass(frozen=True)
class Completed(Generic[AnyStr]):
    """A finished command: its argv, output and exit status."""

    argv: tuple[str, ...]
    stdout: AnyStr
    stderr: AnyStr
    returncode: int


class RunError(ExternalError):
    """An external program failed, timed out or could not be started."""

    def __init__(
        self,
        message: str,
        *,
        program: str,
        returncode: int | None = None,
        stderr: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.program = program
        self.returncode = returncode
        self.stderr = stderr  # redacted


def environment(
    inherit: Iterable[str] = (), env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The allow-listed environment: BASE_ENV and ``inherit`` (names or ``PREFIX*``), then ``env``.

    ``LC_ALL=C`` is not forced here; callers that parse output set it in ``env``.
    """
    patterns = [*BASE_ENV, *inherit]
    exact = {p for p in patterns if "*" not in p}
    globs = [p for p in patterns if "*" in p]
    chosen = {
        k: v
        for k, v in os.environ.items()
        if k in exact or any(fnmatch.fnmatchcase(k, g) for g in globs)
    }
    chosen.update(env or {})
    return chosen


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` (non-empty strings) replaced by ``***``."""
    for value in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def display(argv: Sequence[str], secrets: Iterable[str] = ()) -> str:
    """The command as a shell-quoted line, safe to log: credentials masked."""
    marked = [s for s in secrets if s]
    shown: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            shown.append(MASK)
            hide_next = False
            continue
        flag, eq, value = arg.partition("=")
        if arg in _SECRET_FLAGS:
            hide_next = True
            shown.append(arg)
        elif eq and value and (flag in _SECRET_FLAGS or _SECRET_KEY.search(flag)):
            shown.append(f"{flag}={MASK}")
        else:
            shown.append(redact(arg, marked))
    return shlex.join(shown)


def _tail(text: str, secrets: Sequence[str]) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return redact(lines[-1], secrets) if lines else "(no output)"


def _label(argv: Sequence[str]) -> str:
    program = Path(argv[0]).name
    return f"{program} {argv[1]}" if len(argv) > 1 else program


def _execute(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None,
    inherit: Iterable[str],
    env: Mapping[str, str] | None,
    input: bytes | None,
    check: bool,
    label: str | None,
    secrets: Sequence[str],
    missing_hint: str | None,
    error: type[RunError],
) -> Completed[bytes]:
    if not argv:
        raise ValueError("empty argv")
    args = [os.fspath(a) for a in argv]
    what = label or _label(args)
    program = Path(args[0]).name
    where = f" in {cwd}" if cwd is not None else ""
    names = f" (env: {', '.join(sorted(env))})" if env else ""
    log.debug("run%s: %s%s", where, display(args, secrets), names)
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=environment(inherit, env),
            check=False,
        )
    except FileNotFoundError as exc:
        raise error(
            f"{program} not found at {args[0]}", program=program, hint=missing_hint
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what} timed out after {timeout:.0f}s{where}", program=program) from exc
    except OSError as exc:
        raise error(f"could not run {program}{where}: {exc.strerror}", program=program) from exc
    done = Completed(tuple(args), proc.stdout, proc.stderr, proc.returncode)
    if check and proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        out = proc.stdout.decode("utf-8", "replace")
        detail = _tail(err or out, secrets)
        if detail == "(no output)":
            detail = f"exit status {proc.returncode}"
        raise error(
            f"{what} failed{where}: {detail}",
            program=program,
            returncode=proc.returncode,
            stderr=redact(err, secrets),
        )
    return done


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    inherit: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    label: str | None = None,
    secrets: Sequence[str] = (),
    missing_hint: str | None = None,
    error: type[RunError] = RunError,
) -> Completed[str]:
    """Run ``argv`` with text output (UTF-8); raise ``error`` on failure when ``check``.

    ``label`` names the command in messages (default: program and first argument);
    ``secrets`` are values to mask wherever the command or its stderr is shown.
    """
    done = _execute(
        argv,
        timeout=timeout,
        cwd=cwd,
        inherit=inherit,
        env=env,
        input=input.encode() if input is not None else None,
        check=check,
        label=label,
        secrets=secrets,
        missing_hint=missing_hint,
        error=error,
    )
    return Completed(
        done.argv,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        done.returncode,
    )


def run_bytes(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    inherit: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
    label: str | None = None,
    secrets: Sequence[str] = (),
    missing_hint: str | None = None,
    error: type[RunError] = RunError,
) -> Completed[bytes]:
    """Like :func:`run`, with stdout/stderr as bytes (file lists with ``-z``, blobs)."""
    return _execute(
        argv,
        timeout=timeout,
        cwd=cwd,
        inherit=inherit,
        env=env,
        input=input,
        check=check,
        label=label,
        secrets=secrets,
        missing_hint=missing_hint,
        error=error,
    )


def stream(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None,
    user_env: Mapping[str, str],
    on_output: Callable[[str], None],
    label: str | None = None,
) -> Completed[str]:
    """Run a command a person watches: stdout and stderr merged, each line handed on as it comes.

    For the demo's runbook, which runs the lines a user types in that user's shell: so
    ``user_env`` is the child's whole environment (not the allow-list of :func:`run`), and a
    non-zero exit is returned, not raised (the caller checks it against what it expects).
    Output is returned in ``stdout``; ``stderr`` is empty.
    """
    args = [os.fspath(a) for a in argv]
    what = label or _label(args)
    log.debug("stream in %s: %s", cwd, display(args))
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(user_env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise RunError(f"could not run {what}: {exc.strerror}", program=Path(args[0]).name) from exc
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    captured: list[str] = []
    try:
        assert proc.stdout is not None
        with proc:
            for line in proc.stdout:
                captured.append(line)
                on_output(line)
    finally:
        timer.cancel()
    if killed.is_set():
        raise RunError(f"{what} timed out after {timeout:.0f}s", program=Path(args[0]).name)
    return Completed(tuple(args), "".join(captured), "", proc.returncode)
