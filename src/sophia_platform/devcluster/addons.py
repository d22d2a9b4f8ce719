"""What K3s gives every cluster and a bare control plane lacks, applied by ``up``.

K3s ships the ``nvidia`` RuntimeClass (k3s#8700) and its bundled local-path provisioner with a
default StorageClass ``local-path``. ``up`` creates the same API objects from package data
(``manifests/nvidia-runtimeclass.yaml``, ``local-cluster/addons/local-path-storage.yaml``) and
the supervisor runs rancher's provisioner as a host process, so a StatefulSet's claim binds by
itself and every user command works on the local cluster unchanged.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from sophia_platform import resources
from sophia_platform.devcluster.components import Layout
from sophia_platform.errors import ExternalError

# Files the provisioner reads from disk (copied into the state directory at start).
PROVISIONER_FILES = ("local-path-config.json", "local-path-helper-pod.yaml")
STORAGE_CLASS = "local-path"
RUNTIME_CLASS = "nvidia"


@dataclass(frozen=True)
class Addon:
    """One API object ``up`` makes sure exists."""

    kind: str
    name: str
    namespace: str | None
    body: Any  # the manifest as a dict (the client serialises dicts as they are)

    @property
    def label(self) -> str:
        """``Kind/name`` as a user would name it."""
        return f"{self.kind}/{self.name}"


def addons() -> list[Addon]:
    """The RuntimeClass, the provisioner's ServiceAccount and the default StorageClass."""
    texts = [
        resources.manifest("nvidia-runtimeclass.yaml"),
        resources.data_path("local-cluster", "addons", "local-path-storage.yaml").read_text(),
    ]
    found = []
    for text in texts:
        for doc in YAML(typ="safe", pure=True).load_all(text):
            if doc:
                meta = doc["metadata"]
                found.append(Addon(doc["kind"], meta["name"], meta.get("namespace"), doc))
    return found


def write_provisioner_files(layout: Layout) -> None:
    """Copy the provisioner's config and helper-pod template next to the cluster's state."""
    layout.addons_dir.mkdir(parents=True, exist_ok=True)
    for name in PROVISIONER_FILES:
        shutil.copyfile(
            resources.data_path("local-cluster", "addons", name), layout.addons_dir / name
        )


def ensure(api_client: Any) -> list[str]:
    """Create every add-on that is missing; return the ones created (``Kind/name``)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(api_client)
    create: dict[str, Callable[[Addon], Any]] = {
        "RuntimeClass": lambda a: client.NodeV1Api(api_client).create_runtime_class(a.body),
        "StorageClass": lambda a: client.StorageV1Api(api_client).create_storage_class(a.body),
        "ServiceAccount": lambda a: core.create_namespaced_service_account(
            a.namespace or "default", a.body
        ),
    }
    created = []
    for addon in addons():
        try:
            create[addon.kind](addon)
        except ApiException as exc:
            if exc.status == 409:
                continue  # already there (a reused cluster, or made by hand): left as it is
            raise ExternalError(
                f"creating {addon.label} on the local cluster failed: {exc.status} {exc.reason}"
            ) from exc
        created.append(addon.label)
    return created
