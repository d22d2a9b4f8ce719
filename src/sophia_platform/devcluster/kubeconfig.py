"""The admin kubeconfig of the local cluster (context ``sophia-local``).

The cluster's own kubeconfig lives in its state directory (``sophia dev cluster kubeconfig``);
:mod:`sophia_platform.kube.merge` puts its context into the user's kubeconfig and takes it out
again.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from ruamel.yaml import YAML

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.devcluster.pki import Pki

CONTEXT = "sophia-local"


def kubeconfig_document(server: str, pki: Pki) -> dict[str, object]:
    """Build a kubeconfig with the CA and admin credentials embedded (portable, self-contained)."""

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": f"{CONTEXT}-admin",
                "user": {
                    "client-certificate-data": b64(pki.admin_cert),
                    "client-key-data": b64(pki.admin_key),
                },
            }
        ],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": f"{CONTEXT}-admin", "namespace": "default"},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: Path, server: str, pki: Pki) -> Path:
    """Write the kubeconfig atomically with mode 0600 (it holds the admin key)."""
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(kubeconfig_document(server, pki), buf)
    write_text_atomic(path, buf.getvalue(), mode=0o600)
    return path
