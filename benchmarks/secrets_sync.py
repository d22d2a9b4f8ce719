"""Benchmark: sync N secrets github-actions -> ESC (local server) and ESC -> Kubernetes (local
cluster); wall time and HTTP requests. Targets: 1 write request to ESC for any N; 100 secrets
end to end <= 1 s.

Usage: python benchmarks/secrets_sync.py [--sizes 100,1000] [--no-cluster]
The cluster part starts the local control plane (tools/local-cluster) unless KUBECONFIG points
at a running one; it is skipped, saying so, when the binaries are not built.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from secrets import token_hex
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.servers (the local ESC server)

from tests.servers.esc import EscServer  # noqa: E402
from tests.servers.esc_admin import DefinitionHandler, DefinitionState  # noqa: E402

from sophia_platform.secrets.providers.esc import EscProvider  # noqa: E402
from sophia_platform.secrets.providers.github_actions import GithubActionsProvider  # noqa: E402
from sophia_platform.secrets.session import provider_context  # noqa: E402
from sophia_platform.secrets.sync import SyncOptions, run  # noqa: E402
from sophia_platform.spec import Spec  # noqa: E402

ESC_REF = "bench-org/default/bench"
SERVICES = 10


def make_spec(n: int, namespace: str) -> Spec:
    names = [f"BENCH_SECRET_{i:04}" for i in range(n)]
    services = {
        f"svc-{s}": {"image": f"svc-{s}", "secrets": names[s::SERVICES]} for s in range(SERVICES)
    }
    return Spec.model_validate(
        {
            "project": "bench",
            "registry": "docker.io/bench",
            "environments": {
                "bench": {"context": "sophia-local", "namespace": namespace, "esc": ESC_REF}
            },
            "services": services,
            "secrets": {name: {} for name in names},
        }
    )


@contextmanager
def local_cluster(enabled: bool) -> Iterator[tuple[Any, str] | str]:
    """Yield (api_client, context) of a running cluster, or a reason string when unavailable."""
    if not enabled:
        yield "disabled with --no-cluster"
        return
    from kubernetes import config

    if os.environ.get("KUBECONFIG"):
        yield config.new_client_from_config(context=os.environ.get("SOPHIA_BENCH_CONTEXT")), ""
        return
    try:
        from sophia_platform.devcluster import cluster, toolchain
        from sophia_platform.devcluster.kubeconfig import CONTEXT
    except ImportError:
        yield "sophia_platform.devcluster is not available in this build"
        return
    if toolchain.missing_tools():
        yield f"cluster binaries not built ({', '.join(toolchain.missing_tools())})"
        return
    state_dir = Path(tempfile.mkdtemp(prefix="sophia-bench-k8s-"))
    try:
        from sophia_platform.devcluster.nodes import NodeSpec

        result = cluster.up(state_dir, [NodeSpec("bench-node")])
        yield (
            config.new_client_from_config(config_file=str(result.kubeconfig), context=CONTEXT),
            CONTEXT,
        )
    finally:
        cluster.down(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)


def bench(n: int, cluster: tuple[Any, str] | str) -> None:
    namespace = f"bench-{n}-{int(time.time())}"
    spec = make_spec(n, namespace)
    values = {name: token_hex(20) for name in spec.secrets}
    state = DefinitionState()
    state.add_environment(ESC_REF, {"unmanaged_key": "kept"})
    with EscServer(state, DefinitionHandler) as esc:
        environ = {
            "ALL_SECRETS": json.dumps(values),
            "PULUMI_ACCESS_TOKEN": esc.token,
            "PULUMI_BACKEND_URL": esc.backend_url,
            "XDG_CONFIG_HOME": tempfile.mkdtemp(),
        }
        ctx = provider_context(spec, "bench", environ=environ)
        with GithubActionsProvider(ctx) as src, EscProvider(ctx) as dst:
            first = run(src, dst, "bench", SyncOptions(), dry_run=False)
        writes = state.count("patch")
        assert not first.plan.blocked, first.plan.problems
        print(
            f"{n:5} secrets  github-actions -> esc   {first.seconds * 1000:8.1f} ms  "
            f"{sum(first.requests.values()):3} HTTP requests, {writes} write request(s) to ESC"
        )
        with GithubActionsProvider(ctx) as src, EscProvider(ctx) as dst:
            again = run(src, dst, "bench", SyncOptions(), dry_run=False)
        print(
            f"{n:5} secrets  github-actions -> esc   {again.seconds * 1000:8.1f} ms  "
            f"(re-run, no change: {state.count('patch') - writes} writes)"
        )
        if isinstance(cluster, str):
            print(f"{n:5} secrets  esc -> kubernetes      skipped: {cluster}")
            return
        from kubernetes import client

        from sophia_platform.secrets.providers.kubernetes import KubernetesProvider

        api_client, _ = cluster
        core = client.CoreV1Api(api_client)
        core.create_namespace({"metadata": {"name": namespace}})
        try:
            kctx = provider_context(
                spec, "bench", environ=environ, options={"api_client": api_client}
            )
            with EscProvider(kctx) as src, KubernetesProvider(kctx) as dst:
                k8s = run(src, dst, "bench", SyncOptions(), dry_run=False)
            print(
                f"{n:5} secrets  esc -> kubernetes      {k8s.seconds * 1000:8.1f} ms  "
                f"{k8s.requests['esc']} ESC + {k8s.requests['kubernetes']} Kubernetes requests "
                f"({SERVICES} Secrets)"
            )
            total = first.seconds + k8s.seconds
            print(f"{n:5} secrets  end to end              {total * 1000:8.1f} ms")
        finally:
            core.delete_namespace(namespace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--no-cluster", action="store_true")
    args = parser.parse_args()
    with ExitStack() as stack:
        cluster = stack.enter_context(local_cluster(not args.no_cluster))
        for n in (int(s) for s in args.sizes.split(",")):
            bench(n, cluster)


if __name__ == "__main__":
    main()
