"""Build the work tree of one commit of a fetched (bare) git dir, blob by blob.

Usage: python benchmarks/corpus/export_tree.py GIT_DIR COMMIT DEST

Some corpus snapshots lack large blobs, so ``git archive`` fails on them: this lists the tree
with ``git ls-tree -r -z`` and reads every blob through one ``git cat-file --batch``,
skipping the missing ones (they are printed as a count). Symlinks and submodules are left
out (the audit does not read them). DEST is then made a git repository with one commit, so
the audit's git-aware listing sees exactly the exported files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def blobs(git_dir: Path, commit: str) -> list[tuple[str, str]]:
    """(sha, path) of every regular file in the commit's tree."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", commit],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8", "surrogateescape")
    out = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob" and mode in ("100644", "100755"):
            out.append((sha, path))
    return out


def export(git_dir: Path, commit: str, dest: Path) -> tuple[int, int]:
    """Write the commit's files under ``dest``; returns (written, missing)."""
    entries = blobs(git_dir, commit)
    proc = subprocess.Popen(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    written = missing = 0
    for sha, path in entries:
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing += 1
            continue
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)  # the newline after the contents
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
    proc.stdin.close()
    proc.wait()
    return written, missing


def main(argv: list[str]) -> int:
    """Export, then commit the tree so the audit lists it like a checkout."""
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    git_dir, commit, dest = Path(argv[0]), argv[1], Path(argv[2])
    if dest.exists() and any(dest.iterdir()):
        print(f"{dest}: not empty; export into a new folder", file=sys.stderr)
        return 2
    dest.mkdir(parents=True, exist_ok=True)
    written, missing = export(git_dir, commit, dest)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "corpus",
        "GIT_AUTHOR_EMAIL": "corpus@localhost",
        "GIT_COMMITTER_NAME": "corpus",
        "GIT_COMMITTER_EMAIL": "corpus@localhost",
    }
    for args in (["init", "-q"], ["add", "-A", "-f"], ["commit", "-q", "-m", f"export {commit}"]):
        subprocess.run(["git", "-C", str(dest), *args], check=True, env=env)
    print(f"{dest}: {written} files from {commit[:12]}, {missing} missing blob(s) skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
