"""Ask the API server what an object would become: server-side apply with ``dryRun=All``.

Used to validate rendered manifests against the real API (admission, schema, defaults) and to
diff desired against live objects with both sides normalised by the server.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from sophia_platform.kube.client import ApiError, answered, server_message, unreachable

FIELD_MANAGER = "sophia"


@dataclass(frozen=True)
class DryRun:
    """An object as it is live (None if absent) and as the server would make it."""

    kind: str
    name: str
    live: dict[str, Any] | None
    desired: dict[str, Any] | None
    error: str | None = None


def dry_run(api: Any, namespace: str, docs: list[dict[str, Any]]) -> list[DryRun]:
    """Server-side dry-run apply of every document; read the live object alongside."""
    from kubernetes.dynamic.exceptions import DynamicApiError

    results = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        found = _resource(api, doc)
        if found is None:
            results.append(
                DryRun(kind, name, None, None, f"the cluster has no {doc['apiVersion']} {kind}")
            )
            continue
        dyn, resource = found
        ns = _namespace(doc, resource, namespace)
        live = None
        try:
            live = dyn.get(resource, name=name, namespace=ns).to_dict()
        except DynamicApiError as e:
            if e.status != 404:
                raise answered(f"read {kind}/{name}", e.status, e.reason, e.body) from e
        try:
            desired = _server_side_apply(dyn, resource, doc, ns, dry_run=True)
        except DynamicApiError as e:
            why = server_message(e.body) or e.reason
            results.append(DryRun(kind, name, live, None, f"{e.status} {why}"))
            continue
        results.append(DryRun(kind, name, live, desired))
    return results


def apply(api: Any, docs: list[dict[str, Any]], *, namespace: str | None = None) -> list[str]:
    """Server-side apply every document (CRDs, engine objects); returns ``Kind/name`` of each.

    A kind the last discovery did not know refreshes it, so a CRD applied earlier in
    ``docs`` serves the custom objects that follow it once the API server has established it.
    """
    from kubernetes.dynamic.exceptions import DynamicApiError

    done = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        found = _resource(api, doc)
        if found is None:
            raise ApiError(
                f"apply {kind}/{name}: the cluster has no {doc['apiVersion']} {kind}", status=404
            )
        dyn, resource = found
        try:
            _server_side_apply(dyn, resource, doc, _namespace(doc, resource, namespace))
        except DynamicApiError as e:
            raise answered(f"apply {kind}/{name}", e.status, e.reason, e.body) from e
        done.append(f"{kind}/{name}")
    return done


def _namespace(doc: dict[str, Any], resource: Any, default: str | None) -> str | None:
    return (doc["metadata"].get("namespace") or default) if resource.namespaced else None


def _server_side_apply(
    dyn: Any, resource: Any, doc: dict[str, Any], ns: str | None, *, dry_run: bool = False
) -> dict[str, Any]:
    """One server-side apply as field manager ``sophia`` (conflicts forced); the result."""
    extra = {"dry_run": "All"} if dry_run else {}
    result: dict[str, Any] = dyn.server_side_apply(
        resource,
        body=doc,
        name=doc["metadata"]["name"],
        namespace=ns,
        field_manager=FIELD_MANAGER,
        force_conflicts=True,
        **extra,
    ).to_dict()
    return result


# Discovery costs a round of requests: one DynamicClient per connection, refreshed on a miss.
_CLIENTS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _resource(api: Any, doc: dict[str, Any]) -> tuple[Any, Any] | None:
    """(client, resource) serving ``doc``'s apiVersion and kind, or None if the cluster has none."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    dyn = _CLIENTS.get(api)
    fresh = dyn is None
    if dyn is None:
        dyn = _CLIENTS[api] = _dynamic(api)
    try:
        return dyn, dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    except ResourceNotFoundError:
        if fresh:
            return None
    dyn = _CLIENTS[api] = _dynamic(api)  # a CRD established since the last discovery
    try:
        return dyn, dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    except ResourceNotFoundError:
        return None


def _dynamic(api: Any) -> Any:
    from kubernetes import dynamic
    from urllib3.exceptions import HTTPError

    try:
        return dynamic.DynamicClient(api)  # type: ignore[no-untyped-call]
    except (HTTPError, OSError) as e:
        raise unreachable("discover API resources", e) from e
