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
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.fixtures.chaos_repo

from tests.fixtures.chaos_repo import generate  # noqa: E402

from sophia_platform.audit import ScanOptions, scan  # noqa: E402


def best_of(repeat: int, fn: object) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def timed_run(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


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
          f"load {os.getloadavg()[0]:.1f}, repeat {args.repeat}")  # fmt: skip
    rows = []
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
            cli = timed_run([sophia, "audit", "--format", "json"], repo) if sophia else float("nan")
            ds_s = timed_run([ds, "scan"], repo) if ds else float("nan")
            rows.append((size, files, mb, one, two, cli, ds_s, len(result.findings)))
            print(f"\n{size} files requested: generated {truth.files} files in {gen_s:.1f} s")
            print(f"  sophia audit (in-process, 1 process): {one:.3f} s  "
                  f"{files / one:,.0f} files/s  {mb / one:.1f} MB/s  ({mb:.1f} MB, "
                  f"{len(result.findings)} findings)")  # fmt: skip
            print(
                f"  sophia audit (in-process, 2 processes): {two:.3f} s  {files / two:,.0f} files/s"
            )
            print(f"  sophia audit CLI (json, incl. start-up): {cli:.3f} s")
            if ds:
                print(f"  detect-secrets scan: {ds_s:.3f} s  {files / ds_s:,.0f} files/s")
                print(f"  speed-up vs detect-secrets: {ds_s / min(one, two):.1f}x in-process, "
                      f"{ds_s / cli:.1f}x CLI vs CLI")  # fmt: skip
    print("\nsize   files  MB     1-proc s  2-proc s  us/file(1p)  CLI s   detect-secrets s  ratio")
    for size, files, mb, one, two, cli, ds_s, _ in rows:
        ratio = ds_s / min(one, two)
        print(f"{size:<6} {files:<6} {mb:<6.1f} {one:<9.3f} {two:<9.3f} {one / files * 1e6:<12.0f} "
              f"{cli:<7.2f} {ds_s:<17.2f} {ratio:.1f}x")  # fmt: skip
    if len(rows) > 1:
        (_s0, f0, _, a, _, _, _, _), (_s1, f1, _, b, _, _, _, _) = rows[0], rows[-1]
        print(
            f"\ngrowth: {f1 / f0:.1f}x files -> {b / a:.1f}x time (1 process); linear means equal"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
