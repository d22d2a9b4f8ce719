"""`sophia demo` end to end as a user runs it: a subprocess on its own local cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform.resources import example_spec_path

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]


def _sophia(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sophia_platform.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=False,
    )


def test_demo_runs_end_to_end_and_never_prints_a_secret(tmp_path: Path) -> None:
    from sophia_platform.devcluster import toolchain

    if toolchain.missing_tools() and not toolchain.go_available():
        pytest.skip("LOCAL CLUSTER TESTS SKIPPED: binaries not built and no Go toolchain")
    state = tmp_path / "cluster"
    env = {**os.environ, "SOPHIA_SPEC": str(example_spec_path())}
    try:
        proc = _sophia("demo", "--state-dir", str(state), env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out = proc.stdout
        assert "deploy succeeded: sophia-ai revision 1" in out
        assert "CrashLoopBackOff" in out and "rolled back to revision 1" in out
        assert "rollback succeeded: sophia-ai revision 5" in out
        assert out.count("healthy") >= 30 and "where to look next" in out
        assert "STAND-IN" in out and "cluster lab matches sophia.yaml" in out
        # the demo's secret values are random; read them back and look for every one
        from sophia_platform.secrets.providers.local import LocalProvider
        from sophia_platform.secrets.session import provider_context
        from sophia_platform.spec import load_spec

        spec = load_spec(example_spec_path())
        store_env = {**env, "SOPHIA_SECRETS_KEY_FILE": str(state / "demo-secrets.key")}
        ctx = provider_context(
            spec, "local", options={"local_dir": str(state / "demo-secrets")}, environ=store_env
        )
        values = [v.reveal() for v in LocalProvider(ctx).load().values()]
        assert len(values) == len(spec.secrets)
        logs = "".join(p.read_text(errors="replace") for p in (state / "logs").glob("*.log"))
        for value in values:
            assert value not in proc.stdout and value not in proc.stderr
            assert value not in logs
    finally:
        hosts = _sophia("dev", "hosts", "down", "--state-dir", str(state / "lab-hosts"), env=env)
        assert hosts.returncode == 0, hosts.stderr
        down = _sophia("dev", "cluster", "down", "--state-dir", str(state), env=env)
        assert down.returncode == 0, down.stderr
