"""kubernetes: one Secret per service (or per group), written with server-side apply.

Addresses are ``<secret>/<key>``. Every Secret we write carries the label
``app.kubernetes.io/managed-by=sophia`` and the annotation ``sophia.dev/content-hash`` (sha256
of the sorted ``key=sha256(value)`` lines), and after a change the Deployments/StatefulSets whose
pods reference the Secret get that hash on their pod template, so they roll — the restart ESO
does not do (ESO#3218). Each Secret is one apply: an interrupted sync leaves every Secret either
old or new, and a re-run converges.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sophia_platform.config import SecretValue
from sophia_platform.errors import InputError
from sophia_platform.kube.client import call, connect, kubeconfig_path
from sophia_platform.secrets.digest import value_digest
from sophia_platform.secrets.manifest import kube_key_for
from sophia_platform.secrets.providers.base import (
    ApplyResult,
    Presence,
    Provider,
    ProviderContext,
    Snapshot,
    TargetState,
    classify,
    parse_options,
)
from sophia_platform.secrets.stamp import (
    TEMPLATE_ANNOTATION,
    content_hash,
    decoded_content_hash,
    template_stamp,
)

if TYPE_CHECKING:
    from sophia_platform.secrets.plan import SyncPlan

FIELD_MANAGER = "sophia"
MANAGED_BY = "app.kubernetes.io/managed-by"
HASH_ANNOTATION = "sophia.dev/content-hash"
CHANGED_ANNOTATION = "sophia.dev/changed-at"
MAX_SECRET_BYTES = 1024 * 1024  # the API server validates sum(len(key) + len(value))


def unmanaged_secret_name(project: str) -> str:
    """The Secret that holds unmanaged names when ``--include-unmanaged`` targets Kubernetes."""
    return f"{project}-unmanaged-secrets"


@dataclass(frozen=True)
class KubernetesOptions:
    """Which cluster and namespace (default: the environment's context and namespace)."""

    kubeconfig: str | None = None  # default: $KUBECONFIG, then ~/.kube/config
    kube_context: str | None = None
    namespace: str | None = None
    restart: bool = True  # roll the workloads whose Secret changed
    api_client: Any = None  # an ApiClient already connected (tests, the demo's cluster)


class KubernetesProvider(Provider):
    """The Secrets of one environment's namespace."""

    kind: ClassVar[str] = "kubernetes"
    Options = KubernetesOptions
    options: KubernetesOptions
    flow_order: ClassVar[int | None] = 3

    @classmethod
    def configured(cls, ctx: ProviderContext) -> bool:
        """A client, a kubeconfig (given, $KUBECONFIG or ~/.kube/config) is there."""
        opts = parse_options(KubernetesOptions, ctx)
        return bool(
            opts.api_client is not None
            or opts.kubeconfig
            or ctx.environ.get("KUBECONFIG")
            or (Path.home() / ".kube/config").exists()
        )

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        from kubernetes import client

        opts = self.options
        self.namespace = opts.namespace or ctx.environment.namespace
        api_client = opts.api_client
        if api_client is None:
            api_client = connect(
                kubeconfig_path(Path(opts.kubeconfig) if opts.kubeconfig else None, ctx.environ),
                opts.kube_context or ctx.environment.context,
            )
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.restart = opts.restart
        self._requests = 0

    def request_count(self) -> int:
        """Kubernetes API requests made so far."""
        return self._requests

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self._requests += 1
        return call(f"Kubernetes: {what} in namespace {self.namespace}", fn, *args, **kwargs)

    # -- reading -------------------------------------------------------------------------------
    def _secrets(self) -> dict[str, Any]:
        """Secrets that are ours: labelled managed-by=sophia or named in the layout."""
        layout = self.ctx.manifest.kube_layout()
        listed = self._call("list Secrets", self.core.list_namespaced_secret, self.namespace)
        ours: dict[str, Any] = {}
        for item in listed.items:
            labels = item.metadata.labels or {}
            if labels.get(MANAGED_BY) == FIELD_MANAGER or item.metadata.name in layout:
                ours[item.metadata.name] = item
        return ours

    def read(self) -> Snapshot:
        """Managed values by NAME (from the first Secret that holds each)."""
        decoded = {name: _decode(s.data) for name, s in self._secrets().items()}
        values: dict[str, SecretValue] = {}
        for entry in self.ctx.manifest.entries.values():
            for secret in entry.kube_secrets:
                raw = decoded.get(secret, {}).get(entry.kube_key)
                if raw is not None:
                    values[entry.name] = SecretValue(raw)
                    break
        return Snapshot(values)

    def inventory(self) -> dict[str, Presence]:
        """Per NAME: present only if every Secret meant to hold it does, with one digest."""
        secrets = self._secrets()
        decoded = {name: _decode(s.data) for name, s in secrets.items()}
        rows: dict[str, Presence] = {}
        for entry in self.ctx.manifest.entries.values():
            if not entry.kube_secrets:
                rows[entry.name] = Presence("unknown", where="(no service consumes it)")
                continue
            found = [decoded.get(s, {}).get(entry.kube_key) for s in entry.kube_secrets]
            where = ", ".join(f"{s}/{entry.kube_key}" for s in entry.kube_secrets)
            if any(v is None for v in found):
                rows[entry.name] = Presence("missing", where=where)
                continue
            digests = {value_digest(v) for v in found if v is not None}
            status = classify(SecretValue(found[0] or ""))
            changed = [_changed_at(secrets[s]) for s in entry.kube_secrets]
            rows[entry.name] = Presence(
                status if len(digests) == 1 else "unknown",
                next(iter(digests)) if len(digests) == 1 else None,
                max((c for c in changed if c is not None), default=None),
                where,
            )
        return rows

    # -- planning --------------------------------------------------------------------------------
    def desired(self, snapshot: Snapshot, *, include_unmanaged: bool) -> dict[str, SecretValue]:
        """``<secret>/<key>`` -> value, with names mapped to valid keys and sizes checked."""
        out: dict[str, SecretValue] = {}
        for name, value in snapshot.values.items():
            entry = self.ctx.manifest.entries[name]
            for secret in entry.kube_secrets:
                out[f"{secret}/{entry.kube_key}"] = value
        if include_unmanaged and snapshot.unmanaged:
            bucket = unmanaged_secret_name(self.ctx.manifest.project)
            origin: dict[str, str] = {}
            for name, value in sorted(snapshot.unmanaged.items()):
                key = kube_key_for(name)
                if key in origin:
                    raise InputError(
                        f"unmanaged secrets {origin[key]!r} and {name!r} both map to "
                        f"Kubernetes key {key!r}; rename one or add it to the manifest"
                    )
                origin[key] = name
                out[f"{bucket}/{key}"] = value
        _check_sizes(out)
        return out

    def state(self) -> TargetState:
        """Digest of every key of every Secret that is ours; all of them are prunable."""
        secrets = self._secrets()
        digests: dict[str, str | None] = {}
        raw: dict[str, dict[str, str]] = {}
        labelled: set[str] = set()
        for name, item in secrets.items():
            raw[name] = dict(item.data or {})
            if (item.metadata.labels or {}).get(MANAGED_BY) == FIELD_MANAGER:
                labelled.add(name)
            for key, value in _decode(item.data).items():
                digests[f"{name}/{key}"] = value_digest(value)
        # Listing Secrets of a missing namespace answers an empty list; only then is it asked.
        missing = not secrets and not self._namespace_exists()
        return TargetState(
            digests=digests,
            prunable=set(digests),
            revision=None,
            extra={"raw": raw, "labelled": labelled},
            creates=[f"namespace {self.namespace}"] if missing else [],
        )

    def _namespace_exists(self) -> bool:
        from sophia_platform.kube.namespaces import namespace_exists

        self._requests += 1
        return namespace_exists(self.core.api_client, self.namespace)

    def _create_namespace(self) -> str | None:
        """Create the namespace (as ``helm --create-namespace``); say so, or None if it exists."""
        from sophia_platform.kube.namespaces import ensure_namespace

        self._requests += 2
        if ensure_namespace(self.core.api_client, self.namespace):
            return f"created namespace {self.namespace}"
        return None

    # -- applying -------------------------------------------------------------------------------
    def apply(
        self, plan: SyncPlan, desired: dict[str, SecretValue], state: TargetState
    ) -> ApplyResult:
        """One server-side apply per changed Secret; delete a Secret pruned to nothing."""
        touched = {e.address.split("/", 1)[0] for e in plan.changes}
        if not touched:
            return ApplyResult(0, 0, 0)
        before = self._requests
        details = []
        if state.creates:
            created = self._create_namespace()
            details += [created] if created else []
        removed_keys: dict[str, set[str]] = defaultdict(set)
        for entry in plan.changes:
            if entry.action == "remove":
                secret, key = entry.address.split("/", 1)
                removed_keys[secret].add(key)
        wanted: dict[str, dict[str, str]] = defaultdict(dict)
        for address, value in desired.items():
            secret, key = address.split("/", 1)
            wanted[secret][key] = value.reveal()
        raw: dict[str, dict[str, str]] = state.extra.get("raw", {})
        written = removed = 0
        hashes: dict[str, str] = {}
        for secret in sorted(touched):
            data = {
                k: base64.b64decode(v).decode("utf-8", "replace")
                for k, v in raw.get(secret, {}).items()
                if k not in removed_keys[secret]
            }
            data.update(wanted.get(secret, {}))
            removed += len(removed_keys[secret])
            if not data:
                if secret in state.extra.get("labelled", set()):
                    self._call(
                        f"delete Secret {secret}",
                        self.core.delete_namespaced_secret,
                        secret,
                        self.namespace,
                    )
                continue
            hashes[secret] = self._apply_secret(secret, data)
            if removed_keys[secret]:
                # Server-side apply only drops fields *we* own; a key another manager added
                # is removed explicitly (null in a merge patch deletes it).
                self._call(
                    f"prune keys of Secret {secret}",
                    self.core.patch_namespaced_secret,
                    secret,
                    self.namespace,
                    {"data": dict.fromkeys(sorted(removed_keys[secret]))},
                )
            written += sum(
                1
                for e in plan.changes
                if e.action != "remove" and e.address.startswith(secret + "/")
            )
        if self.restart and hashes:
            current = {name: decoded_content_hash(data) for name, data in raw.items()}
            self._roll_consumers(changed=set(hashes), secret_hashes={**current, **hashes})
        return ApplyResult(written, removed, self._requests - before, tuple(details))

    def _apply_secret(self, name: str, data: dict[str, str]) -> str:
        digest = content_hash(data)
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": {
                    MANAGED_BY: FIELD_MANAGER,
                    "app.kubernetes.io/part-of": self.ctx.manifest.project,
                },
                "annotations": {
                    HASH_ANNOTATION: digest,
                    CHANGED_ANNOTATION: datetime.now(UTC).isoformat(timespec="seconds"),
                },
            },
            "data": {
                k: base64.b64encode(v.encode("utf-8")).decode("ascii") for k, v in data.items()
            },
        }
        self._call(
            f"apply Secret {name}",
            self.core.patch_namespaced_secret,
            name,
            self.namespace,
            body,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )
        return digest

    def _roll_consumers(self, changed: set[str], secret_hashes: dict[str, str]) -> None:
        """Stamp the pod templates that reference a changed Secret (see secrets/stamp.py)."""
        for kind, lister, patcher in (
            (
                "Deployment",
                self.apps.list_namespaced_deployment,
                self.apps.patch_namespaced_deployment,
            ),
            (
                "StatefulSet",
                self.apps.list_namespaced_stateful_set,
                self.apps.patch_namespaced_stateful_set,
            ),
        ):
            for workload in self._call(f"list {kind}s", lister, self.namespace).items:
                referenced = referenced_secrets(workload.spec.template.spec)
                if not referenced & changed:
                    continue
                stamp = template_stamp(referenced, secret_hashes)
                current = (
                    (workload.spec.template.metadata.annotations or {})
                    if workload.spec.template.metadata
                    else {}
                )
                if current.get(TEMPLATE_ANNOTATION) == stamp:
                    continue
                patch = {
                    "spec": {
                        "template": {"metadata": {"annotations": {TEMPLATE_ANNOTATION: stamp}}}
                    }
                }
                self._call(
                    f"restart {kind} {workload.metadata.name}",
                    patcher,
                    workload.metadata.name,
                    self.namespace,
                    patch,
                )

    def pods_using(self, secret_names: set[str]) -> list[tuple[str, datetime | None, set[str]]]:
        """(pod name, start time, Secrets it references) for pods using any of the Secrets."""
        pods = self._call("list Pods", self.core.list_namespaced_pod, self.namespace)
        out: list[tuple[str, datetime | None, set[str]]] = []
        for pod in pods.items:
            used = referenced_secrets(pod.spec) & secret_names
            if used:
                start = pod.status.start_time if pod.status else None
                out.append((pod.metadata.name, start, used))
        return sorted(out, key=lambda row: row[0])

    def secret_changed_at(self) -> dict[str, datetime | None]:
        """When each of our Secrets last changed (our annotation)."""
        return {name: _changed_at(item) for name, item in self._secrets().items()}


def referenced_secrets(pod_spec: Any) -> set[str]:
    """Names of Secrets a pod spec uses through envFrom, env valueFrom or volumes."""
    if pod_spec is None:
        return set()
    names: set[str] = set()
    for container in list(pod_spec.containers or []) + list(pod_spec.init_containers or []):
        for source in container.env_from or []:
            if source.secret_ref is not None:
                names.add(source.secret_ref.name)
        for var in container.env or []:
            ref = var.value_from.secret_key_ref if var.value_from else None
            if ref is not None:
                names.add(ref.name)
    for volume in pod_spec.volumes or []:
        if volume.secret is not None:
            names.add(volume.secret.secret_name)
        if volume.projected is not None:
            for source in volume.projected.sources or []:
                if source.secret is not None:
                    names.add(source.secret.name)
    return names


def _decode(data: dict[str, str] | None) -> dict[str, str]:
    return {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (data or {}).items()}


def _changed_at(item: Any) -> datetime | None:
    stamp = (item.metadata.annotations or {}).get(CHANGED_ANNOTATION)
    if not stamp:
        return item.metadata.creation_timestamp  # type: ignore[no-any-return]
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def _check_sizes(desired: dict[str, SecretValue]) -> None:
    sizes: dict[str, int] = defaultdict(int)
    for address, value in desired.items():
        secret, key = address.split("/", 1)
        sizes[secret] += len(key) + len(value.reveal().encode("utf-8"))
    for secret, size in sorted(sizes.items()):
        if size > MAX_SECRET_BYTES:
            raise InputError(
                f"Secret {secret!r} would hold {size} bytes; Kubernetes allows 1 MiB per Secret",
                hint="move large values to a group Secret (kubernetes.secret) or a volume",
            )
