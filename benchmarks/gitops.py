"""Benchmark: `git push` -> every service ready on the new tag, with real Flux (goal <= 20 s).

Starts its own local cluster and GitOps loop (source-controller and helm-controller as host
processes, the git http-backend server) in a temporary directory, deploys the 15-service
example through Flux once, then 5 times: `sophia gitops set-image local --tag T` (commit +
push; the repository's post-receive hook asks Flux to reconcile, the way a notification-
controller Receiver does for a GitHub webhook), and times from the start of the push to
every pod of every service ready on T with the HelmRelease applied at that commit. Prints
p50/min/max, and the push part alone.

    .venv/bin/python benchmarks/gitops.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

from sophia_platform.deploy import records
from sophia_platform.devcluster import cluster, inventory
from sophia_platform.gitops import actions, converge, devloop, repo
from sophia_platform.gitops.actions import Context
from sophia_platform.gitops.manifests import TreeOptions
from sophia_platform.gitops.tree import init
from sophia_platform.kube.client import connect
from sophia_platform.resources import example_spec_path
from sophia_platform.spec import load_spec

# The same namespace preparation as benchmarks/deploy.py (this folder is on sys.path when a
# benchmark script runs).
from _cluster import prepare  # isort: skip


EXAMPLE = example_spec_path()


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _fmt(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples):6.2f}s  min {min(samples):6.2f}s  "
        f"max {max(samples):6.2f}s"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="sophia-bench-gitops-"))
    namespace = f"bench-gitops-{secrets.token_hex(3)}"
    work = state / "work"
    work.mkdir()
    yaml = YAML()
    data = yaml.load(EXAMPLE.read_text())
    data["environments"]["local"]["namespace"] = namespace
    with (work / "sophia.yaml").open("w") as handle:
        yaml.dump(data, handle)
    spec = load_spec(work / "sophia.yaml")
    totals: list[float] = []
    pushes: list[float] = []
    recorded: list[float] = []
    try:
        up = cluster.up(state / "cluster", inventory.nodes_from_spec(EXAMPLE))
        loop = devloop.up(state / "cluster", state / "cluster" / "gitops", repo="bench")
        print(f"local cluster up in {up.seconds:.1f}s, gitops loop in {loop.seconds:.1f}s")
        api = connect(up.kubeconfig, "sophia-local")
        prepare(api, spec, namespace)
        assert loop.repo_url is not None
        _git(work, "init", "-q", "-b", "main")
        _git(work, "config", "user.name", "Bench")
        _git(work, "config", "user.email", "bench@example.com")
        _git(work, "remote", "add", "origin", loop.repo_url)
        init(spec, "local", TreeOptions(engine="flux", repo_url=loop.repo_url), work,
             dry_run=False)  # fmt: skip
        _git(work, "add", "-A")
        _git(work, "commit", "-qm", "gitops tree")
        _git(work, "push", "-q", "origin", "HEAD:main")
        ctx = Context.open(spec, "local", work, root="kubernetes", kubeconfig=up.kubeconfig)
        actions.bootstrap(ctx)
        start = time.perf_counter()
        first = actions.reconcile(ctx, timeout_s=300)
        assert first.outcome == "succeeded", first.message
        print(f"first install through Flux: {time.perf_counter() - start:.1f}s")
        for run in range(args.runs):
            tag = f"bench-{run}-{secrets.token_hex(2)}"
            start = time.perf_counter()
            bump = repo.set_image(spec, work, "local", tag)
            pushed = time.perf_counter()
            assert bump.pushed and bump.commit
            done = converge.wait_for(
                api, "flux", ctx.info.name, namespace, spec.release_name("local"), bump.commit,
                timeout_s=300, poll_s=0.2,
            )  # fmt: skip
            assert done.ok, done.message
            totals.append(time.perf_counter() - start)
            pushes.append(pushed - start)
            # What the product records for the same deploy (history, the report's metric):
            # its clock starts at the push in git's reflog, whole seconds.
            ctx.record(ready_at=time.time())
            rec = next(
                r for r in records.load_all(api, namespace, spec.release_name("local"))
                if r.git_sha == bump.commit
            )  # fmt: skip
            assert rec.pushed_at is not None and rec.duration_s is not None
            recorded.append(rec.duration_s)
            print(
                f"run {run + 1}: push -> all ready on {tag}: {totals[-1]:.2f}s "
                f"(deploy record: {rec.duration_s:.1f}s)"
            )
        print()
        print(f"push -> every service ready on the new tag: {_fmt(totals)}  (goal <= 20 s)")
        print(f"  of which set-image (commit + push + hook): {_fmt(pushes)}")
        print(f"  the deploy records' push-to-ready:        {_fmt(recorded)}")
        print("  reconcile trigger: post-receive hook -> reconcile.fluxcd.io/requestedAt")
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"  load average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    finally:
        devloop.down(state / "cluster" / "gitops")
        cluster.down(state / "cluster")
        shutil.rmtree(state, ignore_errors=True)  # the work tree and the git server's repos
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
