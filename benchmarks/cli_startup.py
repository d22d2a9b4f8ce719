"""Benchmark: wall time of `sophia --help` and `sophia --version` (target: <= 0.3 s)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time


def measure(argv: list[str], runs: int = 15) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    sophia = shutil.which("sophia") or sys.exit("sophia is not on PATH; run scripts/setup")
    for args in (["--help"], ["--version"], ["validate", "--help"]):
        median, worst = measure([sophia, *args])
        label = "sophia " + " ".join(args)
        print(f"{label:<24} median {median * 1000:7.1f} ms  max {worst * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
