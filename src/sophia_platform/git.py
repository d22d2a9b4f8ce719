"""The one module that runs ``git``: argv lists, a timeout, stderr carried into the error.

Other modules build argument lists and call :func:`run`; nothing else starts ``git``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sophia_platform.errors import ExternalError, InputError

DEFAULT_TIMEOUT_S = 60.0


class GitError(ExternalError):
    """``git`` failed; the message carries its stderr."""


def _git() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise ExternalError("git is not installed; install it (apt-get install git) and retry")
    return exe


def run(
    args: list[str],
    cwd: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    check: bool = True,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS`` in ``cwd`` (``input`` on its stdin); return it, stdout as bytes."""
    argv = [_git(), *args]
    # A fixed environment keeps output parseable: no pager, no prompts, C locale.
    env = {**os.environ, "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, timeout=timeout, check=False, env=env, input=input
        )
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f}s in {cwd}") from exc
    except OSError as exc:
        raise GitError(f"could not run git in {cwd}: {exc.strerror}") from exc
    if check and proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = stderr[-1] if stderr else f"exit status {proc.returncode}"
        raise GitError(f"git {' '.join(args[:2])} failed in {cwd}: {detail}")
    return proc


def toplevel(path: Path) -> Path | None:
    """The work tree root containing ``path``, or None when it is not inside a git work tree."""
    if shutil.which("git") is None:
        return None
    start = path if path.is_dir() else path.parent
    proc = run(["rev-parse", "--show-toplevel"], start, check=False)
    if proc.returncode != 0:
        return None
    return Path(os.fsdecode(proc.stdout.strip()))


def ls_files(root: Path, *, include_ignored: bool = False, under: str = "") -> list[str]:
    """Tracked plus untracked files (not ignored unless asked), POSIX paths relative to ``root``.

    ``root`` must be the work tree's top level; ``under`` limits the listing to a sub-folder.
    """
    if not root.is_dir():
        raise InputError(f"{root} is not a directory; pass a repository folder")
    args = ["ls-files", "-z", "--cached", "--others"]
    if not include_ignored:
        args.append("--exclude-standard")
    if under:
        args += ["--", under]
    out = run(args, root).stdout
    # Entries repeat for unmerged paths and for tracked files that also appear as others.
    seen: dict[str, None] = {}
    for raw in out.split(b"\0"):
        if raw:
            seen[os.fsdecode(raw)] = None
    return list(seen)


def last_commit_times(root: Path, paths: list[str]) -> dict[str, int]:
    """Unix time of the last commit touching each path (paths never committed are absent)."""
    times: dict[str, int] = {}
    for path in paths:
        proc = run(["log", "-1", "--format=%ct", "--", path], root, check=False)
        text = proc.stdout.decode("ascii", "replace").strip()
        if proc.returncode == 0 and text.isdigit():
            times[path] = int(text)
    return times
