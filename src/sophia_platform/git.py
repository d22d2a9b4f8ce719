"""The git facts Sophia needs, asked of ``git`` itself through :mod:`sophia_platform.runner`.

Other modules build argument lists and call :func:`run`; nothing parses ``.git`` by hand.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sophia_platform import runner
from sophia_platform.errors import ExternalError, InputError

DEFAULT_TIMEOUT_S = 60.0
# What git may see of our environment besides the runner's base: identity and config
# overrides (tests and CI set them), never credentials helpers' tokens.
INHERIT = ("GIT_AUTHOR_*", "GIT_COMMITTER_*", "GIT_CONFIG_*", "EMAIL")
# A fixed environment keeps output parseable: no pager, no prompts, C locale.
FIXED_ENV = {"GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitError(runner.RunError):
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
) -> runner.Completed[bytes]:
    """Run ``git ARGS`` in ``cwd`` (``input`` on its stdin); return it, stdout as bytes."""
    return runner.run_bytes(
        [_git(), *args],
        cwd=cwd,
        timeout=timeout,
        check=check,
        input=input,
        inherit=INHERIT,
        env=FIXED_ENV,
        label=f"git {' '.join(args[:2])}",
        error=GitError,
    )


def toplevel(path: Path) -> Path | None:
    """The work tree root containing ``path``, or None when it is not inside a git work tree."""
    if shutil.which("git") is None:
        return None
    start = path if path.is_dir() else path.parent
    proc = run(["rev-parse", "--show-toplevel"], start, check=False)
    if proc.returncode != 0:
        return None
    return Path(os.fsdecode(proc.stdout.strip()))


def head_commit(path: Path) -> str | None:
    """The commit HEAD points at in the work tree holding ``path`` (None: no repo, no commit)."""
    if shutil.which("git") is None or not path.exists():
        return None
    start = path if path.is_dir() else path.parent
    proc = run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], start, check=False)
    text = proc.stdout.decode("ascii", "replace").strip()
    return text if proc.returncode == 0 and text else None


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


def changed_files(root: Path, ref: str) -> list[str]:
    """Files that differ from the merge base of ``ref`` and HEAD, plus untracked ones.

    What a pull-request check looks at: commits on this branch since it left ``ref``, staged
    and unstaged edits, and new files git does not ignore. Deleted files are left out (there
    is nothing to scan); a rename counts as its new path. ``root`` is the work tree's top level.
    """
    if ref.startswith("-"):
        raise InputError(f"{ref}: not a git revision; name a branch, tag or commit")
    verify = run(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        root,
        check=False,
    )
    if verify.returncode != 0:
        if ref == "HEAD":  # no commit yet: everything in the work tree is new
            return ls_files(root)
        raise InputError(f"no commit {ref!r} in {root}; fetch it or name another revision")
    diff = run(
        ["diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", "--merge-base", ref],
        root,
    ).stdout
    untracked = run(["ls-files", "-z", "--others", "--exclude-standard"], root).stdout
    seen: dict[str, None] = {}
    for raw in (*diff.split(b"\0"), *untracked.split(b"\0")):
        if raw:
            seen[os.fsdecode(raw)] = None
    return list(seen)
