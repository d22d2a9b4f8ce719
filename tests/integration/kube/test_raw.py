"""kube/raw: writes (server-side apply, merge patch, delete) the fast way and through the
official client, against the real local API server."""

from __future__ import annotations

from typing import Any

import pytest

from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError, connect


@pytest.mark.parametrize("path_kind", ["fast", "official client"])
def test_apply_patch_read_delete(k8s_cluster: Any, k8s_namespace: str, path_kind: str) -> None:
    api = connect(k8s_cluster.kubeconfig, k8s_cluster.context)
    target: Any = api if path_kind == "fast" else api.real
    assert api.read_path is not None  # the local cluster's credentials: certificates
    name = f"raw-{path_kind.replace(' ', '-')}"
    path = f"/api/v1/namespaces/{k8s_namespace}/configmaps/{name}"
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": k8s_namespace},
        "data": {"a": "1", "b": "2"},
    }
    try:
        made = raw.server_side_apply(target, f"apply {name}", path, doc)
        assert made.data.to_dict() == {"a": "1", "b": "2"}
        managers = [m.manager for m in made.metadata.managed_fields]
        assert managers == ["sophia"]
        again = raw.server_side_apply(target, f"apply {name}", path, doc)
        assert again.metadata.resource_version == made.metadata.resource_version  # no-op
        patched = raw.patch(target, f"patch {name}", path, {"data": {"a": None, "c": "3"}})
        assert patched.data.to_dict() == {"b": "2", "c": "3"}
        assert raw.get(target, f"read {name}", path).data.to_dict() == {"b": "2", "c": "3"}
        raw.delete(target, f"delete {name}", path)
        with pytest.raises(ApiError) as gone:
            raw.get(target, f"read {name}", path)
        assert gone.value.status == 404 and "not found" in gone.value.detail
        with pytest.raises(ApiError) as twice:
            raw.delete(target, f"delete {name}", path)
        assert twice.value.status == 404
    finally:
        api.close()
