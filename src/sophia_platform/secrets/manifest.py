"""The secrets manifest: ``spec.secrets`` seen as one row per secret, with every layer's name.

This module is also the ONE place that decides Kubernetes Secret names, so the Helm chart
(``envFrom``), the kubernetes provider and ``sophia secrets trace`` always agree:

* a secret whose ``kubernetes.secret`` is set lives in that named Secret (a group Secret);
* otherwise it lives in the Secret of every service that lists it: ``<service>-secrets``.

Inside a Secret the key is ``kubernetes.key`` (default: the canonical NAME, e.g.
``OPENAI_API_KEY``), so ``envFrom`` gives the app an env var of that name and a volume mount
gives it a file of that name, which is what the config library reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sophia_platform.errors import SpecError

if TYPE_CHECKING:
    from sophia_platform.spec import Spec

# Kubernetes Secret data keys: ``[-._a-zA-Z0-9]+``, at most 253 characters.
KUBE_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
# GitHub's toJSON(secrets) always carries the run's own token; it is never synced.
GITHUB_RUN_TOKEN = "github_token"


def kube_secret_name(spec: Spec, service: str) -> str:
    """The name of the per-service Secret of ``service`` (``<service>-secrets``)."""
    del spec  # the name depends on the service only; the spec is taken for future per-env rules
    return f"{service}-secrets"


def kube_secret_names(spec: Spec, service: str) -> list[str]:
    """Every Secret a service's pods reference via ``envFrom``, sorted (may be empty)."""
    names: set[str] = set()
    for secret in spec.services[service].secrets:
        entry = spec.secrets.get(secret)
        if entry is None:
            continue  # the spec's cross-checks report the undeclared secret
        names.add(entry.kubernetes.secret or kube_secret_name(spec, service))
    return sorted(names)


def is_valid_kube_key(key: str) -> bool:
    """True if ``key`` can be a key of a Kubernetes Secret's data."""
    return bool(KUBE_KEY.match(key)) and key not in {".", ".."}


def kube_key_for(name: str) -> str:
    """Map an arbitrary (unmanaged) secret name onto a valid Kubernetes key, or raise."""
    if is_valid_kube_key(name):
        return name
    mapped = re.sub(r"[^-._a-zA-Z0-9]", "_", name)[:253]
    if not is_valid_kube_key(mapped) or set(mapped) <= {"_", "."}:
        raise SpecError([f"secret name {name!r} cannot be a Kubernetes key; rename it"])
    return mapped


@dataclass(frozen=True)
class ManagedSecret:
    """One row of the manifest with every layer's address resolved."""

    name: str  # canonical NAME, e.g. OPENAI_API_KEY
    github: str
    esc: str  # ESC path under ``values`` (Pulumi path syntax: dots nest)
    kube_key: str
    kube_secrets: tuple[str, ...]  # the Secrets that hold it (empty: not consumed in k8s)
    services: tuple[str, ...]  # services that consume it
    required: bool
    description: str = ""


@dataclass(frozen=True)
class Manifest:
    """All managed secrets, with look-ups from every layer's native name."""

    project: str
    entries: dict[str, ManagedSecret]

    @classmethod
    def from_spec(cls, spec: Spec) -> Manifest:
        """Build the manifest from ``spec.secrets`` and the services that consume them."""
        consumers: dict[str, list[str]] = {name: [] for name in spec.secrets}
        for service_name, service in spec.services.items():
            for secret in service.secrets:
                consumers.setdefault(secret, []).append(service_name)
        entries: dict[str, ManagedSecret] = {}
        for name, entry in spec.secrets.items():
            services = tuple(sorted(consumers.get(name, [])))
            kube: tuple[str, ...]
            if entry.kubernetes.secret:
                kube = (entry.kubernetes.secret,)
            else:
                kube = tuple(sorted({kube_secret_name(spec, s) for s in services}))
            entries[name] = ManagedSecret(
                name=name,
                github=entry.github or name,
                esc=entry.esc or name.lower(),
                kube_key=entry.kubernetes.key or name,
                kube_secrets=kube,
                services=services,
                required=entry.required,
                description=entry.description,
            )
        manifest = cls(project=spec.project, entries=entries)
        manifest.kube_layout()  # validates key collisions early, with a clear message
        return manifest

    def by_github(self) -> dict[str, str]:
        """GitHub secret name (upper-cased: GitHub names are case-insensitive) -> NAME."""
        return {e.github.upper(): e.name for e in self.entries.values()}

    def by_esc(self) -> dict[str, str]:
        """ESC path -> NAME."""
        return {e.esc: e.name for e in self.entries.values()}

    def kube_layout(self) -> dict[str, dict[str, str]]:
        """Secret name -> {key -> NAME}: where every managed secret lives in Kubernetes."""
        layout: dict[str, dict[str, str]] = {}
        for entry in self.entries.values():
            if not is_valid_kube_key(entry.kube_key):
                raise SpecError([f"secrets.{entry.name}: {entry.kube_key!r} is not a valid key"])
            for secret in entry.kube_secrets:
                keys = layout.setdefault(secret, {})
                other = keys.get(entry.kube_key)
                if other is not None and other != entry.name:
                    raise SpecError(
                        [
                            f"secrets.{entry.name} and secrets.{other} both map to key "
                            f"{entry.kube_key!r} of Secret {secret!r}; give one another "
                            "kubernetes.key"
                        ]
                    )
                keys[entry.kube_key] = entry.name
        return layout

    def consumers(self, name: str) -> tuple[str, ...]:
        """Services that consume secret ``name``."""
        entry = self.entries.get(name)
        return entry.services if entry else ()
