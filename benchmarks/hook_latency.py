"""Benchmark the pre-commit hook's entry: ``sophia audit`` on the files of a typical commit.

    .venv/bin/python benchmarks/hook_latency.py                  # 2,000- and 20,000-file repos
    .venv/bin/python benchmarks/hook_latency.py --sizes 2000 --repeat 15 --pre-commit

For each size it generates a repository (tests/fixtures/chaos_repo.py), stages a typical
commit (5 edited files and 1 new one) and times, as separate processes:

* the hook's entry exactly as ``.pre-commit-hooks.yaml`` declares it, given the staged files
  (what pre-commit runs), with and without a ``.sophia-audit.yml`` (which loads pydantic);
* ``sophia --version`` (the interpreter and CLI start-up floor) and a full ``sophia audit`` of
  the repository (what the hook would cost if it scanned everything);
* with ``--pre-commit``: ``pre-commit run`` end to end (its own start-up, stash, git calls),
  after installing the hook environment once (PRE_COMMIT_HOME in a temp dir; needs PyPI).

Target (issue 16): the hook well under a second for a typical commit. Medians and minimums
are printed with the load average, because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.fixtures.chaos_repo

from tests.fixtures.chaos_repo import generate  # noqa: E402
from tests.fixtures.git import GIT_ENV, git  # noqa: E402

HOOK = next(
    h
    for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    if h["id"] == "sophia-audit"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timings(argv: list[str], cwd: Path, repeat: int, env: dict[str, str] = GIT_ENV) -> Timing:
    """Wall and CPU seconds of a command over ``repeat`` runs (exit status not checked)."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, start = _children_cpu(), time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu)
    return Timing(statistics.median(walls), min(walls), statistics.median(cpus))


@dataclass(frozen=True)
class Timing:
    """Median and best wall time, median CPU time (user + system, the process and its children)."""

    median: float
    best: float
    cpu: float

    def line(self, label: str) -> str:
        return (
            f"  {label:<40} wall median {self.median * 1000:7.1f} ms  min {self.best * 1000:7.1f}"
            f" ms   CPU median {self.cpu * 1000:7.1f} ms"
        )


def stage_typical_commit(repo: Path) -> list[str]:
    """Edit five tracked files (a Python, shell, YAML, Markdown, env file if present) + add one."""
    tracked = git(repo, "ls-files").split()
    picked: list[str] = []
    for suffix in (".py", ".sh", ".yml", ".md", ".env", ".py", ".yaml"):
        for path in tracked:
            if path.endswith(suffix) and path not in picked:
                picked.append(path)
                break
        if len(picked) == 5:
            break
    for path in picked:
        with (repo / path).open("a") as handle:
            handle.write("\n# edited in this commit\n")
    (repo / "services/new_module.py").parent.mkdir(parents=True, exist_ok=True)
    (repo / "services/new_module.py").write_text('"""New."""\n\nTIMEOUT_S = 3\n')
    picked.append("services/new_module.py")
    git(repo, "add", *picked)
    return picked


def pre_commit_env(repo: Path, home: Path) -> dict[str, str]:
    """Configure the hook from a snapshot of this checkout and install its environment."""
    snapshot = home.parent / "hook-source"
    if not snapshot.exists():
        listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        for rel in filter(None, listed.split("\0")):
            if (ROOT / rel).is_file():
                (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, snapshot / rel)
        git(snapshot, "init", "-q")
        git(snapshot, "add", "-A")
        git(snapshot, "commit", "-q", "-m", "snapshot")
    rev = git(snapshot, "rev-parse", "HEAD").strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {snapshot}\n    rev: {rev}\n    hooks:\n      - id: sophia-audit\n"
    )
    env = {**GIT_ENV, "PRE_COMMIT_HOME": str(home)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install-hooks"],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    print(f"  pre-commit install-hooks (once): {time.perf_counter() - start:6.1f} s")
    return env


def bench(size: int, repeat: int, with_pre_commit: bool, work: Path) -> None:
    repo = work / f"repo-{size}"
    generate(repo, files=size, seed=7)
    files = stage_typical_commit(repo)
    sophia = shutil.which("sophia") or sys.exit("sophia is not on PATH; run scripts/setup")
    entry = [sophia, *shlex.split(HOOK["entry"])[1:]]
    print(f"== {size} files, a commit of {len(files)} files, load {os.getloadavg()[0]:.1f}")
    rows: list[tuple[str, list[str]]] = [
        ("sophia --version (start-up floor)", [sophia, "--version"]),
        ("hook entry, no .sophia-audit.yml", [*entry, *files]),
    ]
    for label, argv in rows:
        print(timings(argv, repo, repeat).line(label))
    (repo / ".sophia-audit.yml").write_text("version: 1\nallow:\n  paths: [docs/history/]\n")
    print(timings([*entry, *files], repo, repeat).line("hook entry, with .sophia-audit.yml"))
    full = [sophia, "audit", "--format", "concise"]
    print(timings(full, repo, max(3, repeat // 5)).line("full audit of the repository"))
    if with_pre_commit:
        env = pre_commit_env(repo, work / "pre-commit-home")
        run = [sys.executable, "-m", "pre_commit", "run"]
        print(timings(run, repo, max(3, repeat // 3), env).line("pre-commit run (end to end)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--pre-commit", action="store_true", help="also time pre-commit run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sophia-hook-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            bench(size, args.repeat, args.pre_commit, Path(tmp))


if __name__ == "__main__":
    main()
