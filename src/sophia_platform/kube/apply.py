"""Ask the API server what an object would become: server-side apply with ``dryRun=All``.

Used to validate rendered manifests against the real API (admission, schema, defaults) and to
diff desired against live objects with both sides normalised by the server.
"""

from __future__ import annotations

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
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

    dyn = _dynamic(api)
    results = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        try:
            resource = dyn.resources.get(api_version=doc["apiVersion"], kind=kind)
        except ResourceNotFoundError:
            results.append(
                DryRun(kind, name, None, None, f"the cluster has no {doc['apiVersion']} {kind}")
            )
            continue
        ns = namespace if resource.namespaced else None
        live = None
        try:
            live = dyn.get(resource, name=name, namespace=ns).to_dict()
        except DynamicApiError as e:
            if e.status != 404:
                raise answered(f"read {kind}/{name}", e.status, e.reason, e.body) from e
        try:
            desired = dyn.server_side_apply(
                resource,
                body=doc,
                name=name,
                namespace=ns,
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
                dry_run="All",
            ).to_dict()
        except DynamicApiError as e:
            why = server_message(e.body) or e.reason
            results.append(DryRun(kind, name, live, None, f"{e.status} {why}"))
            continue
        results.append(DryRun(kind, name, live, desired))
    return results


def apply(api: Any, docs: list[dict[str, Any]], *, namespace: str | None = None) -> list[str]:
    """Server-side apply every document (CRDs, engine objects); returns ``Kind/name`` of each.

    Discovery is refreshed per document, so a CRD applied earlier in ``docs`` serves the
    custom objects that follow it once the API server has established it.
    """
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

    dyn = _dynamic(api)
    done = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        try:
            resource = dyn.resources.get(api_version=doc["apiVersion"], kind=kind)
        except ResourceNotFoundError:
            dyn = _dynamic(api)  # a CRD established since the last discovery
            resource = dyn.resources.search(api_version=doc["apiVersion"], kind=kind)
            if not resource:
                raise ApiError(
                    f"apply {kind}/{name}: the cluster has no {doc['apiVersion']} {kind}",
                    status=404,
                ) from None
            resource = resource[0]
        ns = (doc["metadata"].get("namespace") or namespace) if resource.namespaced else None
        try:
            dyn.server_side_apply(
                resource,
                body=doc,
                name=name,
                namespace=ns,
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
            )
        except DynamicApiError as e:
            raise answered(f"apply {kind}/{name}", e.status, e.reason, e.body) from e
        done.append(f"{kind}/{name}")
    return done


def _dynamic(api: Any) -> Any:
    from kubernetes import dynamic
    from urllib3.exceptions import HTTPError

    try:
        return dynamic.DynamicClient(api)  # type: ignore[no-untyped-call]
    except (HTTPError, OSError) as e:
        raise unreachable("discover API resources", e) from e
