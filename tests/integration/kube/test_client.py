"""kube/client: the one connect, the one ApiError (status, reason, server message), the timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sophia_platform.errors import CheckFailed, ExitStatus
from sophia_platform.kube.client import ApiError, call, connect


def test_answer_keeps_status_reason_and_message(k8s_cluster: Any, k8s_namespace: str) -> None:
    from kubernetes import client

    api = connect(k8s_cluster.kubeconfig, k8s_cluster.context)
    core = client.CoreV1Api(api)
    with pytest.raises(ApiError) as info:
        call("read Secret nope", core.read_namespaced_secret, "nope", k8s_namespace)
    err = info.value
    assert (err.status, err.reason) == (404, "Not Found")
    assert '"nope" not found' in err.detail and err.exit_status == ExitStatus.EXTERNAL
    assert err.message.startswith("read Secret nope: API server answered 404 Not Found: ")
    body = {"metadata": {"name": "dup"}, "data": {}}
    call("create", core.create_namespaced_config_map, k8s_namespace, body)
    with pytest.raises(ApiError) as again:
        call("create", core.create_namespaced_config_map, k8s_namespace, body)
    assert (again.value.status, again.value.reason) == (409, "Conflict")


def test_unreachable_server_is_status_none(tmp_path: Path) -> None:
    from kubernetes import client

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: x\n  cluster:\n"
        "    server: https://127.0.0.1:1\ncontexts:\n- name: x\n  context: {cluster: x, user: x}\n"
        "users:\n- name: x\n  user: {token: t}\n"
    )
    api = connect(kubeconfig, None)  # None: the kubeconfig's current context
    with pytest.raises(ApiError) as info:
        call("list nodes", client.CoreV1Api(api).list_node)
    assert info.value.status is None and "cannot reach the API server" in info.value.message
    with pytest.raises(CheckFailed, match="kube context 'other' is not in"):
        connect(kubeconfig, "other")
