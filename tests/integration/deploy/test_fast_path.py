"""``sophia deploy`` and ``sophia status`` as processes: what they import on the real cluster.

The deploy writes its namespace, Lease and records through ``kube/raw`` and loads neither the
``kubernetes`` package nor urllib3; ``status`` on a spec validated before loads no pydantic.
``-X importtime`` lists every module a process imported, so the test reads that list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CANARY, DeployEnv

pytestmark = pytest.mark.cluster


def _sophia(denv: DeployEnv, tmp_path: Path, *args: str) -> tuple[str, set[str]]:
    """Run ``sophia --spec SPEC ARGS`` as a new process: (stdout, top-level packages imported)."""
    argv = [sys.executable, "-X", "importtime", "-m", "sophia_platform.cli.main"]
    argv += ["--spec", str(denv.spec_path), *args, "--kubeconfig", str(denv.kubeconfig)]
    env = {**os.environ, "SOPHIA_SPEC_CACHE": str(tmp_path / "spec-cache")}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert CANARY not in proc.stdout + proc.stderr
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return proc.stdout, imported


def test_deploy_and_status_processes_skip_the_heavy_imports(
    denv: DeployEnv, tmp_path: Path
) -> None:
    _out, imported = _sophia(denv, tmp_path, "deploy", "local", "--image-tag", "1.0.1")
    assert "pydantic" in imported  # the deploy validates its spec...
    assert not imported & {"kubernetes", "urllib3"}  # ...then talks to the API over http.client
    ours = {name: image for name, image in denv.images().items() if "/acme/" in image}
    assert ours and all(image.endswith(":1.0.1") for image in ours.values()), ours
    # The deploy validated these bytes: status reads the remembered facts, not pydantic.
    out, imported = _sophia(denv, tmp_path, "status", "local", "--json")
    assert json.loads(out)["healthy"] is True
    assert not imported & {"kubernetes", "urllib3", "pydantic", "ruamel", "rich"}
