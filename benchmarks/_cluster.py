"""What the deploy benchmarks share: a spec bound to a fresh namespace, its Secrets, clean-up.

A helper, not a benchmark: ``run_all.sh`` skips ``_*.py``.
"""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sophia_platform.resources import example_spec_path
from sophia_platform.secrets.manifest import kube_secret_names

EXAMPLE = example_spec_path()


def spec_for(namespace: str, workdir: Path) -> Path:
    yaml = YAML()
    data = yaml.load(EXAMPLE.read_text())
    data["environments"]["local"]["namespace"] = namespace
    path = workdir / f"{namespace}.yaml"
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


def prepare(api: Any, spec: Any, namespace: str) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": namespace}})
    while True:  # pods are refused until the namespace's default ServiceAccount exists
        try:
            core.read_namespaced_service_account("default", namespace)
            break
        except client.exceptions.ApiException:
            time.sleep(0.1)
    for service in spec.services:
        for name in kube_secret_names(spec, service):
            keys = [
                s
                for s in spec.services[service].secrets
                if spec.secrets[s].kubernetes.secret in (None, name)
            ]
            data = {k: base64.b64encode(secrets.token_urlsafe(24).encode()).decode() for k in keys}
            core.create_namespaced_secret(namespace, {"metadata": {"name": name}, "data": data})


def free(api: Any, namespace: str) -> None:
    from kubernetes import client

    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    for d in apps.list_namespaced_deployment(namespace).items:
        apps.delete_namespaced_deployment(d.metadata.name, namespace)
    for s in apps.list_namespaced_stateful_set(namespace).items:
        apps.delete_namespaced_stateful_set(s.metadata.name, namespace)
    core.delete_collection_namespaced_pod(namespace, grace_period_seconds=0)
    while core.list_namespaced_pod(namespace).items:
        time.sleep(0.2)
    core.delete_namespace(namespace)
