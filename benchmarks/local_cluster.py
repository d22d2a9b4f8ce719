"""Benchmark the local control plane: build, up, a 15-Deployment/40-pod rollout, down.

Targets: warm `sophia dev cluster up` to ready <= 20 s; 15 Deployments with 40 pods to all
Available <= 15 s. The cold build time is read from the cache (build.sh records it) or
measured here if the binaries are not built yet.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sophia_platform.devcluster import toolchain
from sophia_platform.resources import example_spec_path

ROOT = Path(__file__).resolve().parents[1]
# 10 Deployments of 3 replicas and 5 of 2: 15 Deployments, 40 pods.
REPLICAS = [3] * 10 + [2] * 5


def sophia(*args: str) -> float:
    exe = shutil.which("sophia") or sys.exit("sophia is not on PATH; run scripts/setup")
    start = time.perf_counter()
    subprocess.run([exe, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def build_figures() -> str:
    bin_dir = toolchain.cache_bin_dir()
    record = bin_dir.parent / "build-times.txt" if bin_dir else None
    if toolchain.missing_tools():
        start = time.perf_counter()
        toolchain.build()
        return f"cold build (measured now): {time.perf_counter() - start:.0f} s"
    if record and record.is_file():
        return "cold build (recorded by build.sh):\n" + record.read_text().rstrip()
    return "binaries cached; no build record"


def rollout(kubeconfig: Path) -> float:
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    ns = "bench"
    core.create_namespace({"metadata": {"name": ns}})
    while not core.list_namespaced_service_account(ns).items:
        time.sleep(0.05)
    start = time.perf_counter()
    for i, replicas in enumerate(REPLICAS):
        name = f"svc-{i:02d}"
        apps.create_namespaced_deployment(
            ns,
            {
                "metadata": {"name": name},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": "main", "image": f"{name}:1"}]},
                    },
                },
            },
        )
    while True:
        deps = apps.list_namespaced_deployment(ns).items
        if len(deps) == len(REPLICAS) and all(
            (d.status.available_replicas or 0) == d.spec.replicas for d in deps
        ):
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    api_client.close()
    return elapsed


def main() -> None:
    print(build_figures())
    state = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    try:
        spec = str(example_spec_path())
        up_s = sophia("dev", "cluster", "up", "--state-dir", str(state), "--spec", spec)
        print(f"sophia dev cluster up (warm binaries) to ready: {up_s:5.1f} s  (target <= 20 s)")
        reuse_s = sophia("dev", "cluster", "up", "--state-dir", str(state), "--spec", spec)
        print(f"sophia dev cluster up (already running):     {reuse_s:5.1f} s")
        pods = sum(REPLICAS)
        roll_s = rollout(state / "kubeconfig")
        print(
            f"{len(REPLICAS)} Deployments / {pods} pods to all Available: {roll_s:5.1f} s"
            "  (target <= 15 s)"
        )
    finally:
        down_s = sophia("dev", "cluster", "down", "--state-dir", str(state))
        print(f"sophia dev cluster down:                     {down_s:5.1f} s")


if __name__ == "__main__":
    main()
