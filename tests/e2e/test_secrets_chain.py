"""The whole chain: workflow toJSON(secrets) -> ESC -> cluster Secret -> an app's
get_config_value through the mounted-files layer (the Secret written to disk the way kubelet
mounts it), with canary values that must never be printed on the way."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sophia_platform.cli.main import main
from tests.servers.esc import EscServer
from tests.servers.esc_admin import DefinitionHandler, DefinitionState

pytestmark = pytest.mark.cluster
REF = "chain-org/default/chain"


@pytest.fixture
def esc() -> Iterator[EscServer]:
    state = DefinitionState()
    state.add_environment(REF, {"kept": "by-someone-else"})
    with EscServer(state, DefinitionHandler) as server:
        yield server


def kubelet_mount(secret: Any, directory: Path) -> None:
    """Lay a Secret out like kubelet's atomic writer: ..data -> timestamped dir, key symlinks."""
    stamp = directory / "..2026_11_25_00_00_00.000000001"
    stamp.mkdir(parents=True)
    for key, b64 in secret.data.items():
        (stamp / key).write_bytes(base64.b64decode(b64))
        (stamp / key).chmod(0o644)
    (directory / "..data").symlink_to(stamp.name)
    for key in secret.data:
        (directory / key).symlink_to(f"..data/{key}")


APP = """
import hashlib, sys
from sophia_platform.config import get_config_value
value = get_config_value(sys.argv[1])
ok = value is not None and hashlib.sha256(value.reveal().encode()).hexdigest() == sys.argv[2]
print("MATCH" if ok else "MISMATCH", value)  # printing a SecretValue shows the redaction only
"""


def test_workflow_to_esc_to_cluster_to_app(
    tmp_path, monkeypatch, capfd, esc, k8s_cluster, k8s_namespace
) -> None:
    values = {
        "OPENAI_API_KEY": f"CANARY-{uuid.uuid4().hex}",
        "DATABASE_URL": f"postgres://app:CANARY{uuid.uuid4().hex}@db:5432/app",
    }
    spec = tmp_path / "sophia.yaml"
    spec.write_text(
        "project: chain\nregistry: docker.io/chain\nenvironments:\n"
        f"  prod: {{context: {k8s_cluster.context}, namespace: {k8s_namespace}, esc: {REF}}}\n"
        "services:\n  api: {image: api, secrets: [OPENAI_API_KEY, DATABASE_URL]}\n"
        "secrets:\n  OPENAI_API_KEY: {}\n  DATABASE_URL: {esc: db.url}\n"
    )
    for key, value in {
        "SOPHIA_SPEC": str(spec),
        "KUBECONFIG": str(k8s_cluster.kubeconfig),
        "PULUMI_ACCESS_TOKEN": esc.token,
        "PULUMI_BACKEND_URL": esc.backend_url,
        "ALL_SECRETS": json.dumps({**values, "github_token": "ghs_x"}),
        "HOME": str(tmp_path / "home"),
    }.items():
        monkeypatch.setenv(key, value)
    # 1. Inside the workflow run: toJSON(secrets) -> ESC, one PATCH.
    assert main(["secrets", "sync", "--from", "github-actions", "--to", "esc", "prod"]) == 0
    assert isinstance(esc.state, DefinitionState) and len(esc.state.patches) == 1
    # 2. ESC -> the cluster.
    assert main(["secrets", "sync", "--from", "esc", "--to", "kubernetes", "prod"]) == 0
    assert main(["secrets", "check", "prod", "--layers", "esc,kubernetes"]) == 0
    out, err = capfd.readouterr()
    assert not [v for v in values.values() if v in out + err]
    # 3. The pod's view: the Secret mounted as files, read by the config library.
    secret = k8s_cluster.core().read_namespaced_secret("api-secrets", k8s_namespace)
    mount = tmp_path / "mount"
    kubelet_mount(secret, mount)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "SOPHIA_"))}
    env.pop("ALL_SECRETS", None)
    env["SOPHIA_SECRETS_DIR"] = str(mount)
    for name, value in values.items():
        digest = hashlib.sha256(value.encode()).hexdigest()
        done = subprocess.run(
            [sys.executable, "-c", APP, name, digest],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.startswith("MATCH"), done.stdout + done.stderr[-2000:]
        assert value not in done.stdout + done.stderr
