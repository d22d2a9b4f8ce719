"""Benchmark ``sophia report``: the current report and the blob-cached history.

    .venv/bin/python benchmarks/report_history.py                  # 2,500 files, 1,000 commits
    .venv/bin/python benchmarks/report_history.py --files 2500 --commits 1000 --seed 3

Builds a deterministic repository with real git: the chaos monorepo of
tests/fixtures/chaos_repo.py (about 2,500 files, its debt known), then ``git fast-import`` of
commits on top until the branch has ``--commits`` of them — each fixing an address, adding one,
or editing a file, one commit every two hours. Then it measures:

* the audit alone and the current report (the report's cost beyond the audit; target ≤ 1 s),
* the full history cold (empty cache; target ≤ 60 s),
* the history warm after one new commit (target ≤ 2 s),
* the daily-sampled history warm (``--every day``).
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.fixtures.chaos_repo

from tests.fixtures.chaos_repo import generate  # noqa: E402

from sophia_platform.audit import ScanOptions, scan  # noqa: E402
from sophia_platform.report import Options, build  # noqa: E402
from sophia_platform.report.history import Sampling, compute  # noqa: E402

_IP = re.compile(rb"\b(?:1[0-9]{2}|[1-9][0-9]?)\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b")
T = TypeVar("T")
START = 1_748_822_400  # 2025-06-02T00:00:00Z
STEP_S = 7200


def _git(root: Path, *args: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", *args], cwd=root, input=data, capture_output=True, check=True)
    return proc.stdout


def _tracked(root: Path) -> dict[str, bytes]:
    names = _git(root, "ls-files", "-z").split(b"\0")
    return {n.decode(): (root / n.decode()).read_bytes() for n in names if n}


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def grow(root: Path, total_commits: int, seed: int) -> int:
    """Append commits with git fast-import until the branch has ``total_commits``."""
    have = int(_git(root, "rev-list", "--count", "HEAD").strip())
    files = _tracked(root)
    rng = random.Random(seed)
    paths = sorted(p for p in files if p.endswith((".py", ".md", ".yml", ".sh")))
    stream = bytearray()
    with_ip = sorted(p for p in paths if _IP.search(files[p]))
    for n in range(have, total_commits):
        roll = rng.random()
        if roll < 0.7 and with_ip:  # most commits pay debt back: one address moves to config
            path = rng.choice(with_ip)
            match = _IP.search(files[path])
            assert match is not None
            body = files[path][: match.start()] + b"${HOST_ADDRESS}" + files[path][match.end() :]
            message = f"{path}: address from config"
        elif roll < 0.8:
            path = rng.choice(paths)
            address = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            body = files[path] + f'\nBACKUP_HOST = "{address}"\n'.encode()
            message = f"{path}: backup host"
        else:
            path = rng.choice(paths)
            body = files[path] + f"\n# reviewed {n}\n".encode()
            message = f"{path}: review note"
        files[path] = body
        if path in with_ip and not _IP.search(body):
            with_ip.remove(path)
        elif path not in with_ip and _IP.search(body):
            bisect.insort(with_ip, path)
        when = START + n * STEP_S
        msg = message.encode()
        stream += b"commit refs/heads/main\n"
        stream += b"committer bench <bench@example.com> %d +0000\n" % when
        stream += _data(msg)
        if n == have:
            stream += b"from refs/heads/main^0\n"
        stream += b"M 100644 inline " + path.encode() + b"\n" + _data(body)
    _git(root, "fast-import", "--quiet", data=bytes(stream))
    _git(root, "reset", "-q", "--hard", "main")
    return total_commits - have


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # git
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


CPU: dict[str, float] = {}


def timed(fn: Callable[[], T], name: str = "") -> tuple[float, T]:
    """Wall time of ``fn``; its CPU time (this process and git) goes to CPU[name]."""
    cpu, start = _cpu(), time.perf_counter()
    value = fn()
    CPU[name] = _cpu() - cpu
    return time.perf_counter() - start, value


def _best(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """Best wall and best CPU seconds over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        walls.append(timed(fn, "best")[0])
        cpus.append(CPU["best"])
    return min(walls), min(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sophia-report-bench-"))
    os.environ["KUBECONFIG"] = str(work / "no-cluster")  # the report without a cluster
    os.environ["SOPHIA_CACHE_DIR"] = str(work / "cache")
    root = work / "repo"
    try:
        t_gen, _ = timed(lambda: generate(root, files=args.files, seed=args.seed))
        t_grow, added = timed(lambda: grow(root, args.commits, args.seed))
        listed = len(_tracked(root))
        print(
            f"repository: {listed} files, {args.commits} commits "
            f"(generated in {t_gen:.1f} s, {added} commits fast-imported in {t_grow:.1f} s)"
        )

        print("(wall times on a shared machine; CPU seconds, this process and git, in brackets)")
        audit, audit_cpu = _best(lambda: scan(root, ScanOptions()))
        report, report_cpu = _best(lambda: build(root, Options()))
        beyond = report_cpu - audit_cpu
        print(f"audit alone:            {audit:6.2f} s [{audit_cpu:.2f}]")
        print(
            f"current report:         {report:6.2f} s [{report_cpu:.2f}]  ({beyond:+.2f} CPU s "
            f"beyond the audit; target <= 1 s: {'ok' if beyond <= 1 else 'MISSED'})"
        )

        t_cold, cold = timed(lambda: compute(root, Sampling()), "cold")
        st = cold.stats
        print(
            f"history cold:           {t_cold:6.2f} s [{CPU['cold']:.1f}]  ({st.points} points, "
            f"{st.blobs_scanned} (path, blob) scans; "
            f"target <= 60 s: {'ok' if t_cold <= 60 else 'MISSED'})"
        )

        (root / "late.py").write_text('LATE_HOST = "10.0.0.7"\n')
        _git(root, "add", "late.py")
        _git(root, "-c", "user.name=b", "-c", "user.email=b@e", "commit", "-qm", "one more")
        t_warm, warm = timed(lambda: compute(root, Sampling()), "warm")
        ws = warm.stats
        print(
            f"history warm (+1 commit): {t_warm:4.2f} s [{CPU['warm']:.1f}]  "
            f"({ws.blobs_scanned} scanned, {ws.commits_cached} commits from cache; target <= 2 s: "
            f"{'ok' if t_warm <= 2 else 'MISSED'})"
        )
        t_daily, daily = timed(lambda: compute(root, Sampling(every="day")))
        print(f"history --every day:    {t_daily:6.2f} s  ({daily.stats.points} points, warm)")
        first, last = cold.points[0], warm.points[-1]
        print(
            f"burn-down hardcoded-ip: {first.counts['hardcoded-ip']} -> "
            f"{last.counts['hardcoded-ip']} over {len(warm.points)} commits"
        )
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
