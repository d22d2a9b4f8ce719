"""The git side of GitOps: move image tags in the committed values file, commit, push.

``set_image`` is what CI's deploy step runs; ``restore_values`` is how a rollback goes through
git (the values file of a good commit, committed again on top). Both commit only the
environment's values file, with a message that names the source commit and carries
``[skip ci]`` so the bump does not start another build, and push to ``origin`` with a bounded
rebase-and-retry when someone pushed in between.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sophia_platform import git
from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.errors import InputError, UsageError
from sophia_platform.gitops.layout import Layout
from sophia_platform.gitops.tree import current_tags, tagged_services
from sophia_platform.spec import Spec

SKIP_CI = "[skip ci]"
PUSH_ATTEMPTS = 3
BOT_NAME = "sophia-gitops"
BOT_EMAIL = "sophia-gitops@users.noreply.github.com"
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass
class CommitResult:
    """What a values-file commit did (``commit`` None: nothing to change, or a dry run)."""

    env: str
    path: str
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    commit: str | None = None
    pushed: bool = False
    branch: str | None = None
    dry_run: bool = False
    message: str = ""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: the header comment and key order stay as init wrote them
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def valid_tag(tag: str) -> str:
    """Check an image tag (Docker's rule: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})."""
    if not tag or len(tag) > 128 or tag[0] in ".-" or not set(tag) <= _TAG_CHARS:
        raise UsageError(f"{tag!r} is not a valid image tag (letters, digits, _ . -; max 128)")
    return tag


def _values_path(repo: Path, env: str, root: str) -> tuple[str, Path]:
    rel = Layout(env, root).values
    path = repo / rel
    if not path.is_file():
        raise InputError(
            f"{rel} not found in {repo}", hint=f"run `sophia gitops init {env}` and commit it"
        )
    return rel, path


def _git_env_identity(repo: Path) -> list[str]:
    """``-c user.*`` for CI runners that have no identity configured."""
    configured = git.run(["config", "user.email"], repo, check=False).returncode == 0
    if configured or os.environ.get("GIT_AUTHOR_EMAIL"):
        return []
    return ["-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}"]


def current_branch(repo: Path) -> str:
    """The checked-out branch (CI checks out a branch, not a detached head, to push)."""
    out = git.run(["symbolic-ref", "--quiet", "--short", "HEAD"], repo, check=False)
    if out.returncode != 0:
        ref = os.environ.get("GITHUB_REF_NAME")
        if ref:
            return ref
        raise UsageError(f"{repo} has a detached HEAD; check out the branch to push to")
    return out.stdout.decode().strip()


def head(repo: Path, ref: str = "HEAD") -> str:
    """The full commit id of ``ref``."""
    return git.run(["rev-parse", "--verify", f"{ref}^{{commit}}"], repo).stdout.decode().strip()


def _commit_and_push(
    repo: Path, rel: str, message: str, *, push: bool, branch: str, result: CommitResult
) -> None:
    ident = _git_env_identity(repo)
    git.run(["add", "--", rel], repo)
    git.run([*ident, "commit", "-q", "-m", message, "--", rel], repo)
    result.commit = head(repo)
    if not push:
        return
    for attempt in range(PUSH_ATTEMPTS):
        proc = git.run(["push", "-q", "origin", f"HEAD:refs/heads/{branch}"], repo, check=False)
        if proc.returncode == 0:
            result.pushed = True
            result.commit = head(repo)
            return
        stderr = proc.stderr.decode("utf-8", "replace")
        raced = "fetch first" in stderr or "non-fast-forward" in stderr
        if attempt == PUSH_ATTEMPTS - 1 or not raced:
            detail = [line for line in stderr.strip().splitlines() if line.strip()]
            raise git.GitError(
                f"git push to origin {branch} failed: {detail[0] if detail else 'rejected'}",
                program="git",
                returncode=proc.returncode,
                hint="the commit is local; fix access and run `git push`",
            )
        # Someone pushed meanwhile: replay our one-file commit on top and try again.
        git.run(["fetch", "-q", "origin", branch], repo, timeout=120)
        git.run([*ident, "rebase", "-q", f"origin/{branch}"], repo)


def set_image(
    spec: Spec,
    repo: Path,
    env: str,
    tag: str,
    *,
    root: str = "kubernetes",
    services: list[str] | None = None,
    source_commit: str | None = None,
    push: bool = True,
    dry_run: bool = False,
) -> CommitResult:
    """Set the image tag of the deploy-tagged services in the environment's values file."""
    valid_tag(tag)
    rel, path = _values_path(repo, env, root)
    wanted = services or tagged_services(spec)
    unknown = sorted(set(wanted) - set(spec.services))
    if unknown:
        raise UsageError(f"unknown service(s) {', '.join(unknown)}; see sophia.yaml services")
    yaml = _yaml()
    document: Any = yaml.load(path.read_text(encoding="utf-8"))
    before = current_tags(document)
    result = CommitResult(env=env, path=rel, dry_run=dry_run)
    for name in wanted:
        block = (document.get("services") or {}).get(name)
        if block is None:
            raise InputError(f"{rel} has no service {name!r}; re-run `sophia gitops init {env}`")
        if before.get(name) != tag:
            result.changes[name] = (before.get(name, ""), tag)
            block["image"]["tag"] = tag
    source = source_commit or os.environ.get("GITHUB_SHA") or head(repo)
    result.message = f"deploy({env}): images {tag} from {source[:12]} {SKIP_CI}"
    if not result.changes or dry_run:
        return result
    result.branch = current_branch(repo)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    write_text_atomic(path, buffer.getvalue())
    _commit_and_push(repo, rel, result.message, push=push, branch=result.branch, result=result)
    return result


def values_at(repo: Path, revision: str, rel: str) -> str:
    """The values file as committed at ``revision``."""
    proc = git.run(["show", f"{revision}:{rel}"], repo, check=False)
    if proc.returncode != 0:
        raise UsageError(f"{rel} does not exist at {revision}; pick a revision that deployed {rel}")
    return proc.stdout.decode("utf-8")


def restore_values(
    repo: Path,
    env: str,
    revision: str,
    *,
    root: str = "kubernetes",
    reason: str = "",
    push: bool = True,
    dry_run: bool = False,
) -> CommitResult:
    """Commit the values file of ``revision`` on top of the branch (a rollback through git)."""
    rel, path = _values_path(repo, env, root)
    full = head(repo, revision)
    old_text = path.read_text(encoding="utf-8")
    new_text = values_at(repo, full, rel)
    yaml = YAML(typ="safe")
    now, then = current_tags(yaml.load(old_text) or {}), current_tags(yaml.load(new_text) or {})
    result = CommitResult(env=env, path=rel, dry_run=dry_run)
    result.changes = {
        name: (now.get(name, ""), then.get(name, ""))
        for name in sorted(set(now) | set(then))
        if now.get(name) != then.get(name)
    }
    why = f": {reason}" if reason else ""
    result.message = f"rollback({env}): values of {full[:12]}{why} {SKIP_CI}"
    if old_text == new_text or dry_run:
        return result
    result.branch = current_branch(repo)
    write_text_atomic(path, new_text)
    _commit_and_push(repo, rel, result.message, push=push, branch=result.branch, result=result)
    return result


def remote_head(repo: Path, url: str, branch: str) -> str | None:
    """The commit at ``branch`` of ``url`` as the git server says now (None: no such branch)."""
    proc = git.run(["ls-remote", "--", url, f"refs/heads/{branch}"], repo, timeout=30)
    line = proc.stdout.decode().strip().split("\n", 1)[0]
    return line.split("\t", 1)[0] if line else None


@dataclass(frozen=True)
class Commit:
    """One commit that changed an environment's values file."""

    sha: str
    author: str
    email: str
    committed_at: int  # unix time
    subject: str


_LOG_FORMAT = "%H%x1f%an%x1f%ae%x1f%ct%x1f%s"


def _commits(text: str) -> list[Commit]:
    found = []
    for line in text.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 5 and parts[3].isdigit():
            found.append(Commit(parts[0], parts[1], parts[2], int(parts[3]), parts[4]))
    return found


def values_log(repo: Path, env: str, *, root: str = "kubernetes", limit: int = 50) -> list[Commit]:
    """Commits that changed the environment's values file, newest first."""
    rel = Layout(env, root).values
    proc = git.run(["log", f"-{limit}", f"--format={_LOG_FORMAT}", "--", rel], repo)
    return _commits(proc.stdout.decode("utf-8", "replace"))


def commit_info(repo: Path, revision: str) -> Commit | None:
    """Author, time and subject of one commit (None: the checkout does not have it)."""
    proc = git.run(["log", "-1", f"--format={_LOG_FORMAT}", revision, "--"], repo, check=False)
    if proc.returncode != 0:
        return None
    found = _commits(proc.stdout.decode("utf-8", "replace"))
    return found[0] if found else None


def pushed_at(repo: Path, sha: str, branch: str) -> int | None:
    """When this checkout pushed ``sha`` to ``origin``'s ``branch`` (unix time), from git's reflog.

    A push updates the remote-tracking ref ``refs/remotes/origin/BRANCH`` and git logs it as
    ``update by push`` (core.logAllRefUpdates is on in non-bare repositories). None when this
    checkout did not push the commit (someone else did, or the reflog expired).
    """
    proc = git.run(
        [
            "reflog",
            "show",
            "--date=unix",
            "--format=%H%x1f%gd%x1f%gs",
            f"refs/remotes/origin/{branch}",
        ],
        repo,
        check=False,
    )
    if proc.returncode != 0:
        return None
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\x1f")
        if len(parts) != 3 or not parts[0].startswith(sha) or parts[2] != "update by push":
            continue
        stamp = parts[1].rsplit("@{", 1)[-1].rstrip("}")
        if stamp.isdigit():
            return int(stamp)
    return None


def tags_at(repo: Path, revision: str, env: str, *, root: str = "kubernetes") -> dict[str, str]:
    """Service -> image tag in the environment's values file at ``revision``."""
    text = values_at(repo, revision, Layout(env, root).values)
    loaded = YAML(typ="safe").load(text)
    return current_tags(loaded if isinstance(loaded, dict) else {})
