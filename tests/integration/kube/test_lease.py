"""The deploy lock against the real local API server: a Lease broken and re-created under a
holder is a lost lock, whoever re-created it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sophia_platform.kube import lease, raw
from sophia_platform.kube.client import connect

HOLDER = "tester@host:1:beef"


def _wait_lost(held: lease.HeldLock, timeout_s: float = 20.0) -> str | None:
    held.lost_event.wait(timeout_s)
    return held.why_lost()


def _recreate(api: Any, namespace: str, holder: str) -> str:
    """Delete the Lease and create a fresh one held by ``holder`` (what a renewal racing a
    `lock release --force` can do): the same name and holder, another object."""
    lease.release(api, namespace, None)
    body = lease._body(holder, "re-created", 30, None)
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    made = raw.create(api, "re-create lock", path, body)
    return str(made.metadata.uid)


@pytest.fixture
def api(k8s_cluster: Any, k8s_namespace: str) -> Iterator[Any]:
    """A connection to the local API server, with the lock of the namespace taken by HOLDER."""
    api = connect(k8s_cluster.kubeconfig, k8s_cluster.context)
    try:
        lease.acquire(api, k8s_namespace, HOLDER, "deploy", ttl_s=3)
        yield api
    finally:
        api.close()


def test_a_lease_recreated_with_our_holder_is_lost_and_removed(
    api: Any, k8s_namespace: str
) -> None:
    with lease.HeldLock(api, k8s_namespace, HOLDER, "deploy", 3) as held:
        _recreate(api, k8s_namespace, HOLDER)
        assert _wait_lost(held) == lease.DELETED
    # The copy is not anyone's lock: it is gone, so the next deploy need not wait for it.
    deadline = time.monotonic() + 5
    while lease.lock_status(api, k8s_namespace).held and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not lease.lock_status(api, k8s_namespace).held


def test_a_lease_recreated_by_another_holder_is_lost_and_kept(api: Any, k8s_namespace: str) -> None:
    with lease.HeldLock(api, k8s_namespace, HOLDER, "deploy", 3) as held:
        _recreate(api, k8s_namespace, "someone@else:2:cafe")
        why = _wait_lost(held)
    assert why == "it is now held by someone@else:2:cafe"
    info = lease.lock_status(api, k8s_namespace)
    assert info.held and info.holder == "someone@else:2:cafe"
