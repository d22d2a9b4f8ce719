"""Benchmark: what `sophia deploy` costs over a bare `helm upgrade --install --wait`, side by side.

On one local control plane (real kube-apiserver, scheduler, controller-manager, kwok), one
release of the 15-service example is upgraded again and again with a new image tag (every pod
replaced), alternately by

  sophia deploy local --image-tag TAG          (a new process: preflight, lock, records, watch)
  helm upgrade --install REL CHART --values F --wait --timeout 300s ...   (same chart, same values)

with the order swapped every round so neither always follows the other. The values helm gets
are the ones sophia renders (`render_values`, with the same secret hashes). Prints the p50 of
each, the ratio of the p50s (goal <= 1.1x), the median of the per-round ratios, and then the
wall time of `sophia status local --json` as a new process (goal <= 0.3 s). CPU seconds are
printed beside the wall times: on a loaded machine they say more than the wall clock.

    .venv/bin/python benchmarks/deploy_overhead.py [--rounds 5] [--status-runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(argv: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall seconds of one run (its CPU seconds, user + system, appended to ``cpu``)."""
    start, cpu_start = time.perf_counter(), _children_cpu()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"failed: {' '.join(argv[:3])}: {' | '.join(tail)}")
    if cpu is not None:
        cpu.append(_children_cpu() - cpu_start)
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
    sophia_cpu: list[float] = []
    status_cpu: list[float] = []
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
                    if who == "sophia":
                        took[who] = _timed(sophia_argv, env, sophia_cpu)
                    else:
                        took[who] = _timed(helm_argv, env)
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
            status_times.append(_timed(status_argv, env, status_cpu))
        print()
        print(f"sophia deploy (new process), every pod replaced: {_fmt(sophia_times)}")
        print(f"helm upgrade --install --wait, same chart/values: {_fmt(helm_times)}")
        ratio = statistics.median(sophia_times) / statistics.median(helm_times)
        print(
            f"overhead: p50 ratio {ratio:.2f}x, median per-round ratio "
            f"{statistics.median(ratios):.2f}x  (goal <= 1.10x)"
        )
        cpu = statistics.median(sophia_cpu)
        print(f"sophia deploy CPU (user + system, with its helm child): p50 {cpu:.2f}s")
        print(f"sophia status --json (new process): {_fmt(status_times)}  (goal <= 0.30 s)")
        print(f"sophia status --json CPU (user + system): p50 {statistics.median(status_cpu):.2f}s")
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        free(api, namespace)
    finally:
        cluster.down(state / "cluster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
