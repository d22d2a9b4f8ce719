"""Benchmark: deploy the 15-service example to all-ready on the local control plane, and status.

Starts its own local cluster (real kube-apiserver, scheduler, controller-manager, kwok) in a
temporary directory, then for each of 5 runs deploys the example from nothing into a fresh
namespace (preflight + helm upgrade --install + watch until every pod is ready), then upgrades
it with a new image tag (every pod replaced). Prints p50/min/max of both, and the latency of
`sophia status` (in-process collect, and the CLI as a subprocess). Targets: deploy <= 30 s,
status <= 0.5 s.

    .venv/bin/python benchmarks/deploy.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _cluster import free, prepare, spec_for

from sophia_platform.deploy.results import DeployFailed, DeployOptions, SilentObserver
from sophia_platform.deploy.status import collect
from sophia_platform.deploy.upgrade import deploy
from sophia_platform.devcluster import cluster, inventory
from sophia_platform.kube.client import connect
from sophia_platform.resources import example_spec_path
from sophia_platform.spec import load_spec

EXAMPLE = example_spec_path()


def _fmt(samples: list[float]) -> str:
    p50 = statistics.median(samples)
    return f"p50 {p50:6.2f}s  min {min(samples):6.2f}s  max {max(samples):6.2f}s"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    workdir = state / "specs"
    workdir.mkdir()
    installs: list[float] = []
    upgrades: list[float] = []
    fail_fast: list[float] = []
    status_inproc: list[float] = []
    status_cli: list[float] = []
    try:
        up = cluster.up(state / "cluster", inventory.nodes_from_spec(EXAMPLE))
        print(f"local cluster up in {up.seconds:.1f}s")
        api = connect(up.kubeconfig, "sophia-local")
        for run in range(args.runs):
            namespace = f"bench-{run}-{secrets.token_hex(3)}"
            spec_path = spec_for(namespace, workdir)
            spec = load_spec(spec_path)
            prepare(api, spec, namespace)
            opts = DeployOptions(kubeconfig=up.kubeconfig, timeout_s=300)
            start = time.perf_counter()
            result = deploy(spec, "local", opts, SilentObserver())
            installs.append(time.perf_counter() - start)
            assert result.outcome == "succeeded", result
            start = time.perf_counter()
            opts = DeployOptions(kubeconfig=up.kubeconfig, timeout_s=300, image_tag=f"bench-{run}")
            result = deploy(spec, "local", opts, SilentObserver())
            upgrades.append(time.perf_counter() - start)
            assert result.outcome == "succeeded", result
            start = time.perf_counter()  # pods that never get ready: stopped and rolled back
            opts = DeployOptions(kubeconfig=up.kubeconfig, timeout_s=300, image_tag="never-ready")
            try:
                deploy(spec, "local", opts, SilentObserver())
            except DeployFailed as failed:
                assert failed.result.outcome == "rolled-back", failed.result
            fail_fast.append(time.perf_counter() - start)
            for _ in range(10):
                start = time.perf_counter()
                st = collect(spec, "local", kubeconfig=up.kubeconfig)
                status_inproc.append(time.perf_counter() - start)
                assert len(st.services) == 15
            env = {**os.environ, "KUBECONFIG": str(up.kubeconfig), "SOPHIA_SPEC": str(spec_path)}
            for _ in range(3):
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "sophia_platform.cli.main", "status", "local", "--json"],
                    env=env, capture_output=True, check=False, timeout=60,
                )  # fmt: skip
                status_cli.append(time.perf_counter() - start)
            print(f"run {run + 1}: install {installs[-1]:.2f}s, upgrade {upgrades[-1]:.2f}s")
            free(api, namespace)
        print()
        print(f"deploy 15 services, nothing -> all ready: {_fmt(installs)}  (target <= 30 s)")
        print(f"upgrade, new tag, every pod replaced:    {_fmt(upgrades)}")
        print(f"never-ready tag: failed + rolled back:   {_fmt(fail_fast)}  (timeout 300 s)")
        print(f"status, in-process collect:              {_fmt(status_inproc)}  (target <= 0.5 s)")
        print(f"status, `sophia status --json` process:  {_fmt(status_cli)}")
    finally:
        cluster.down(state / "cluster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
