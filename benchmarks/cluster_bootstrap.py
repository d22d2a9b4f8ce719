"""Benchmark `sophia cluster` on the five loopback hosts of the example spec.

Goals: `cluster up` of the five nodes from nothing <= 15 s, the converged re-run <= 3 s with
zero changes, `plan` <= 2 s. Each figure is a new `sophia` process (Python start-up included),
on real sshd hosts with the k3s STAND-IN (tests/standin/) registering kwok nodes in a real
local API server. Usage: python benchmarks/cluster_bootstrap.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sophia_platform.devcluster import hosts as dev_hosts
from sophia_platform.resources import example_spec_path
from sophia_platform.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, list[float]] = {}
FIRST_PLAN, UP = "plan (nothing installed)", "up from nothing"
AGAIN, PLAN = "up converged (0 changes)", "plan converged"


def sophia(spec: Path, env: dict[str, str], label: str, *args: str) -> tuple[float, dict[str, Any]]:
    cpu = _cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sophia_platform.cli.main", "--spec", str(spec), *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - start
    CPU.setdefault(label, []).append(_cpu() - cpu)
    if done.returncode != 0:
        sys.exit(f"sophia {' '.join(args)} failed ({done.returncode}): {done.stderr[-400:]}")
    return elapsed, json.loads(done.stdout)


def one_run() -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="sophia-bench-lab-"))
    spec_path = root / "sophia.yaml"
    spec_path.write_text(example_spec_path().read_text())
    env = {
        **os.environ,
        "SOPHIA_SECRETS_KEY_FILE": str(root / "key"),
        "KUBECONFIG": str(root / "kubeconfig"),
    }
    os.environ["SOPHIA_SECRETS_KEY_FILE"] = env["SOPHIA_SECRETS_KEY_FILE"]
    spec = load_spec(spec_path)
    hosts = dev_hosts.Hosts(root / "hosts", ROOT / "tests" / "standin")
    try:
        result = hosts.up(dev_hosts.specs_of(spec))
        dev_hosts.write_addresses(spec, "lab", result)
        first_plan, _ = sophia(
            spec_path, env, FIRST_PLAN, "cluster", "plan", "lab", "--accept-new-host-keys"
        )
        up, out = sophia(spec_path, env, UP, "cluster", "up", "lab")
        assert all(n["ok"] for n in out["nodes"]), out
        again, out = sophia(spec_path, env, AGAIN, "cluster", "up", "lab")
        assert out["changes"] == [], out["changes"]
        plan, out = sophia(spec_path, env, PLAN, "cluster", "plan", "lab")
        assert out["changes"] == []
        return {FIRST_PLAN: first_plan, UP: up, AGAIN: again, PLAN: plan}
    finally:
        hosts.down()
        shutil.rmtree(root, ignore_errors=True)


LOAD_START = os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = [one_run() for _ in range(parser.parse_args().runs)]
    goals = {UP: 15.0, AGAIN: 3.0, PLAN: 2.0, FIRST_PLAN: 2.0}
    print(f"{'what':30} {'p50':>7} {'max':>7}  goal   ({len(runs)} runs, 5 nodes)")
    for key in runs[0]:
        values = [r[key] for r in runs]
        p50 = statistics.median(values)
        verdict = "met" if p50 <= goals[key] else "NOT met"
        print(f"{key:30} {p50:6.2f}s {max(values):6.2f}s  <= {goals[key]:.0f} s  {verdict}")
    print("CPU (user+sys) of the sophia process, p50 and max (the hosts and the API server")
    print("not counted):")
    for label, cpus in CPU.items():
        print(f"  {label:30} {statistics.median(cpus):.2f}s  {max(cpus):.2f}s")
    one, five, _ = os.getloadavg()
    print(f"load average at the start: {LOAD_START:.1f}; at the end: {one:.1f} (5 min: {five:.1f})")
    print(f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
