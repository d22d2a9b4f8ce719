"""A host whose sudo wants a password: a clear error within the timeout, never a hang."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sophia_platform.devcluster import hosts as dev_hosts
from tests.integration.cluster.conftest import STANDIN

pytestmark = pytest.mark.integration

SPEC = """\
project: pw
registry: example.com/pw
environments:
  lab: {context: pw-lab, namespace: pw}
cluster:
  ssh:
    key: ${SSH_KEY_FILE}
nodes:
  box:
    role: server
    address: ${NODE_BOX_HOST}
    privilege: sudo
"""


def test_sudo_password_is_a_clear_error_not_a_hang() -> None:
    if not dev_hosts.SSHD.is_file():
        pytest.fail("sshd missing: scripts/setup installs openssh-server")
    root = Path(tempfile.mkdtemp(prefix="sophia-pw-"))
    (root / "sophia.yaml").write_text(SPEC)
    env = {
        "SOPHIA_SECRETS_KEY_FILE": str(root / "key"),
        "PATH": "/usr/bin:/bin",
        "KUBECONFIG": str(root / "kubeconfig"),
    }
    h = dev_hosts.Hosts(root / "hosts", STANDIN)
    try:
        # No control plane: the run must stop at preflight. Its `sudo` demands a password.
        started, _ = h.start_hosts([dev_hosts.HostSpec("box")], api_server="")
        shutil.copy2(STANDIN / "bin" / "sudo-password", h.host_dir("box") / "bin" / "sudo")
        env["NODE_BOX_HOST"] = f"127.0.0.1:{started[0].port}"
        env["SSH_KEY_FILE"] = str(h.client_key)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sophia_platform.cli.main",
                "--spec",
                str(root / "sophia.yaml"),
                "cluster",
                "up",
                "lab",
                "--accept-new-host-keys",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=root,
        )
    finally:
        h.down()
    assert done.returncode == 3, done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert "no passwordless privilege (sudo -n)" in text
    assert "a password is required" in text
