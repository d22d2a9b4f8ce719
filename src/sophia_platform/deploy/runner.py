"""The one place external programs of the deploy path (helm) are executed.

Commands arrive as argv lists built elsewhere (:mod:`sophia_platform.deploy.helm`); this
module runs them with a timeout and turns every failure into an :class:`ExternalError` that
carries the program's last stderr line.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sophia_platform.errors import ExternalError


@dataclass(frozen=True)
class Completed:
    """A finished command: its argv, output and exit status."""

    argv: tuple[str, ...]
    stdout: str
    stderr: str
    returncode: int


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> Completed:
    """Run ``argv`` (never through a shell); raise ExternalError on failure when ``check``."""
    program = argv[0].rsplit("/", 1)[-1]
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except FileNotFoundError as e:
        raise ExternalError(
            f"{program} not found at {argv[0]}", hint="run scripts/setup or set SOPHIA_HELM_BIN"
        ) from e
    except subprocess.TimeoutExpired as e:
        raise ExternalError(f"{program} {argv[1]} timed out after {timeout:.0f}s") from e
    done = Completed(tuple(argv), proc.stdout, proc.stderr, proc.returncode)
    if check and proc.returncode != 0:
        raise ExternalError(f"{program} {argv[1]} failed: {_last_line(proc.stderr or proc.stdout)}")
    return done
