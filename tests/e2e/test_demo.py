"""`sophia demo` end to end as a user runs it: a subprocess, its own cluster, a temporary HOME."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform import runbook
from tests.e2e.test_readme_runbook import _contexts, _stored_values, _user_env
from tests.plugins.k8s import processes_mentioning

pytestmark = pytest.mark.cluster


@pytest.mark.timeout(2400)  # the whole runbook, GitOps act included (see test_readme_runbook)
def test_demo_prints_and_runs_each_command_and_never_prints_a_secret(
    tmp_path: Path, k8s_binaries: None
) -> None:
    env = _user_env(tmp_path)
    workdir, state = tmp_path / "work", tmp_path / "cluster"
    argv = [sys.executable, "-m", "sophia_platform.cli.main", "demo", "--dir", str(workdir)]
    argv += ["--state-dir", str(state), "--down"]
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=1800, check=False
        )
    finally:
        for down in (["hosts", "down"], ["cluster", "down", "--state-dir", str(state)]):
            subprocess.run(
                [*argv[:3], "dev", *down], env=env, capture_output=True, timeout=120, check=False
            )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = proc.stdout
    # Each command is printed before its output, in the runbook's order.
    position = 0
    for step in runbook.steps():
        position = out.index(f"$ {step.command}", position) + 1
    assert "deploy succeeded: sophia-ai revision 1" in out
    assert "CrashLoopBackOff" in out and "rolled back to revision 1" in out
    assert "rollback succeeded: sophia-ai revision 5" in out
    # The GitOps act: real Flux took the pushes; the broken one was remediated.
    assert "push -> every service ready in" in out
    assert "Dana Dev <dana@example.com>" in out
    assert "RollbackSucceeded" in out and "api: pod api-" in out
    assert "rollback local through git: values of" in out
    assert "where to look next" in out
    values = _stored_values(env, workdir)
    assert len(values) == 42
    for value in [*values.values(), _stored_values(env, workdir, "lab")["K3S_TOKEN"]]:
        assert value not in proc.stdout and value not in proc.stderr
    # --down ran the clean-up act: nothing left.
    assert not processes_mentioning(state) and not state.exists()
    assert not [n for n in _contexts(Path(env["HOME"]) / ".kube" / "config") if "sophia" in n]
