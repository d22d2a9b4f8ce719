"""Benchmark ``sophia audit`` on generated chaos repositories, against ``detect-secrets scan``.

    .venv/bin/python benchmarks/audit_scan.py                    # 2,000 and 20,000 files
    .venv/bin/python benchmarks/audit_scan.py --sizes 2000,5000,10000,20000 --repeat 5

For every size it generates a repository (tests/fixtures/chaos_repo.py), then reports:
the in-process scan (best of --repeat, with 1 and 2 worker processes), the whole CLI run
(`sophia audit --format json`, interpreter start-up included), and `detect-secrets scan` on
the same tree (pinned in the `bench` extra), with the speed-up ratios. Targets from issue 4:
2,000 files in <= 0.5 s, >= 20x faster than detect-secrets, linear growth.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.fixtures.chaos_repo

from tests.fixtures.chaos_repo import generate  # noqa: E402

from sophia_platform.audit import ScanOptions, scan  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (workers, subprocesses)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """Best wall time and best CPU time over ``repeat`` runs (the machine is shared)."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, start = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return min(walls), min(cpus)


def timed_run(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU time of one command."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu() - cpu


def tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-detect-secrets", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ds = None if args.no_detect_secrets else tool("detect-secrets")
    sophia = tool("sophia")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, best of {args.repeat}; wall time suffers when the "
          "machine is shared, CPU time shows the cost itself")  # fmt: skip
    rows = []
    nan = (float("nan"), float("nan"))
    with tempfile.TemporaryDirectory(prefix="sophia-bench-") as tmp:
        for size in sizes:
            repo = Path(tmp) / f"repo-{size}"
            start = time.perf_counter()
            truth = generate(repo, files=size, seed=args.seed)
            gen_s = time.perf_counter() - start
            result = scan(repo)
            files, mb = result.stats.files_scanned, result.stats.bytes_scanned / 1e6
            one = best_of(args.repeat, lambda r=repo: scan(r, ScanOptions(jobs=1)))
            two = best_of(args.repeat, lambda r=repo: scan(r, ScanOptions(jobs=2)))
            cli = nan
            if sophia:  # best of --repeat, like the in-process figures (start-up is noisy)
                runs = [
                    timed_run([sophia, "audit", "--format", "json", "--exit-zero"], repo)
                    for _ in range(args.repeat)
                ]
                cli = (min(r[0] for r in runs), min(r[1] for r in runs))
            ds_t = timed_run([ds, "scan"], repo) if ds else nan
            rows.append((size, files, mb, one, two, cli, ds_t))
            print(f"\n{size} files requested: generated {truth.files} files in {gen_s:.1f} s "
                  f"({mb:.1f} MB, {len(result.findings)} findings)")  # fmt: skip
            for label, (wall, cpu) in (("in-process, 1 process", one),
                                       ("in-process, 2 processes", two),
                                       ("CLI --format json, incl. start-up", cli),
                                       ("detect-secrets scan", ds_t)):  # fmt: skip
                print(f"  {label:<36} wall {wall:7.3f} s  cpu {cpu:7.3f} s  "
                      f"{files / wall:8,.0f} files/s  {mb / wall:5.1f} MB/s (wall)")  # fmt: skip
            if ds:
                best = min(one[0], two[0])
                print(f"  speed-up vs detect-secrets: wall {ds_t[0] / best:.1f}x in-process, "
                      f"{ds_t[0] / cli[0]:.1f}x CLI vs CLI; cpu {ds_t[1] / one[1]:.1f}x "
                      f"in-process, {ds_t[1] / cli[1]:.1f}x CLI")  # fmt: skip
    print("\nsize   files  MB    1p wall  1p cpu  cpu us/file  2p wall  CLI wall  d-s wall  "
          "wall ratio")  # fmt: skip
    for size, files, mb, one, two, cli, ds_t in rows:
        print(f"{size:<6} {files:<6} {mb:<5.1f} {one[0]:<8.3f} {one[1]:<7.3f} "
              f"{one[1] / files * 1e6:<12.0f} {two[0]:<8.3f} {cli[0]:<9.2f} {ds_t[0]:<9.2f} "
              f"{ds_t[0] / min(one[0], two[0]):.1f}x")  # fmt: skip
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        files_x, cpu_x = last[1] / first[1], last[3][1] / first[3][1]
        wall_x = last[3][0] / first[3][0]
        print(f"\ngrowth: {files_x:.1f}x files -> {cpu_x:.1f}x CPU time, {wall_x:.1f}x wall "
              "time (1 process); linear means equal")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
