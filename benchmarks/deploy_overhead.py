"""Benchmark: what `sophia deploy` costs over a bare `helm upgrade --install --wait`, side by side.

On one local control plane (real kube-apiserver, scheduler, controller-manager, kwok), one
release of the 15-service example is upgraded again and again with a new image tag (every pod
replaced), alternately by

  sophia deploy local --image-tag TAG          (a new process: preflight, lock, records, watch)
  helm upgrade --install REL CHART --values F --wait --timeout 300s ...   (same chart, same values)

with the order swapped every round so neither always follows the other. The values helm gets
are the ones sophia renders (`render_values`, with the same secret hashes). Prints the p50 of
each, the ratio of the p50s (goal <= 1.1x), the median of the per-round ratios, and then the
wall time of `sophia status local --json` as a new process (goal <= 0.3 s).

    .venv/bin/python benchmarks/deploy_overhead.py [--rounds 5] [--status-runs 15]
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

from _cluster import EXAMPLE, free, prepare, spec_for

from sophia_platform.deploy import helm, preflight
from sophia_platform.deploy.results import DeployOptions, SilentObserver
from sophia_platform.deploy.target import chart_dir, resolve
from sophia_platform.deploy.upgrade import deploy
from sophia_platform.deploy.values import render_values, values_file
from sophia_platform.devcluster import cluster, inventory
from sophia_platform.kube.client import connect
from sophia_platform.spec import load_spec

CONTEXT = "sophia-local"


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"failed: {' '.join(argv[:3])}: {' | '.join(tail)}")
    return elapsed


def _fmt(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples):6.2f}s  min {min(samples):6.2f}s  "
        f"max {max(samples):6.2f}s"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--status-runs", type=int, default=15)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="sophia-bench-overhead-"))
    workdir = state / "specs"
    workdir.mkdir()
    sophia = str(Path(sys.executable).with_name("sophia"))
    sophia_times: list[float] = []
    helm_times: list[float] = []
    ratios: list[float] = []
    status_times: list[float] = []
    try:
        up = cluster.up(state / "cluster", inventory.nodes_from_spec(EXAMPLE))
        print(f"local cluster up in {up.seconds:.1f}s")
        api = connect(up.kubeconfig, CONTEXT)
        namespace = f"overhead-{secrets.token_hex(3)}"
        spec_path = spec_for(namespace, workdir)
        spec = load_spec(spec_path)
        prepare(api, spec, namespace)
        first = deploy(
            spec, "local", DeployOptions(kubeconfig=up.kubeconfig, image_tag="r0"), SilentObserver()
        )
        assert first.outcome == "succeeded", first
        target = resolve(spec, "local", kubeconfig=up.kubeconfig)
        _, hashes = preflight.check_secrets(spec, api, namespace)
        env = {**os.environ, "KUBECONFIG": str(up.kubeconfig)}
        for rnd in range(1, args.rounds + 1):
            sophia_argv = [sophia, "--spec", str(spec_path), "deploy", "local"]
            sophia_argv += ["--image-tag", f"s{rnd}", "--kubeconfig", str(up.kubeconfig)]
            values = render_values(spec, "local", image_tag=f"h{rnd}", secret_hashes=hashes)
            with values_file(values) as path:
                helm_argv = helm.upgrade_install(
                    target.helm(), chart_dir(), path, timeout_s=300, description="bare helm"
                )
                helm_argv.append("--wait")
                order = ["sophia", "helm"] if rnd % 2 else ["helm", "sophia"]
                took: dict[str, float] = {}
                for who in order:
                    took[who] = _timed(sophia_argv if who == "sophia" else helm_argv, env)
            sophia_times.append(took["sophia"])
            helm_times.append(took["helm"])
            ratios.append(took["sophia"] / took["helm"])
            print(
                f"round {rnd} ({' then '.join(order)}): sophia deploy {took['sophia']:.2f}s, "
                f"helm --wait {took['helm']:.2f}s, ratio {ratios[-1]:.2f}x"
            )
        status_argv = [sophia, "--spec", str(spec_path), "status", "local", "--json"]
        status_argv += ["--kubeconfig", str(up.kubeconfig)]
        for _ in range(args.status_runs):
            start = time.perf_counter()
            subprocess.run(status_argv, env=env, capture_output=True, timeout=60, check=False)
            status_times.append(time.perf_counter() - start)
        print()
        print(f"sophia deploy (new process), every pod replaced: {_fmt(sophia_times)}")
        print(f"helm upgrade --install --wait, same chart/values: {_fmt(helm_times)}")
        ratio = statistics.median(sophia_times) / statistics.median(helm_times)
        print(
            f"overhead: p50 ratio {ratio:.2f}x, median per-round ratio "
            f"{statistics.median(ratios):.2f}x  (goal <= 1.10x)"
        )
        print(f"sophia status --json (new process): {_fmt(status_times)}  (goal <= 0.30 s)")
        free(api, namespace)
    finally:
        cluster.down(state / "cluster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
