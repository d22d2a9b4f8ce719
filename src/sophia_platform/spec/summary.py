"""A plain summary of a spec (what ``sophia show`` prints), computed without rendering."""

from __future__ import annotations

from dataclasses import dataclass, field

from sophia_platform.spec.model import Spec


@dataclass(frozen=True)
class ServiceSummary:
    """One service: its image, shape and the secrets it consumes."""

    name: str
    image: str
    kind: str
    replicas: int
    gpu: int
    gpu_type: str | None
    secrets: list[str]


@dataclass(frozen=True)
class Summary:
    """The whole spec at a glance."""

    project: str
    default_environment: str
    environments: dict[str, dict[str, str | None]]
    nodes: dict[str, dict[str, str | int | None]]
    services: list[ServiceSummary]
    secrets_total: int
    secrets_required: int
    secrets_unused: list[str] = field(default_factory=list)


def summarise(spec: Spec) -> Summary:
    """Summarise a validated spec."""
    used = {name for svc in spec.services.values() for name in svc.secrets}
    return Summary(
        project=spec.project,
        default_environment=spec.default_environment,
        environments={
            name: {"context": env.context, "namespace": env.namespace, "esc": env.esc}
            for name, env in spec.environments.items()
        },
        nodes={
            name: {
                "role": node.role,
                "address": node.address,
                "gpu_type": node.gpu_type,
                "gpus": node.gpu.count if node.gpu else 0,
            }
            for name, node in spec.nodes.items()
        },
        services=[
            ServiceSummary(
                name=name,
                image=spec.image_ref(name),
                kind=svc.kind,
                replicas=svc.replicas,
                gpu=svc.gpu,
                gpu_type=svc.gpu_type,
                secrets=list(svc.secrets),
            )
            for name, svc in spec.services.items()
        ],
        secrets_total=len(spec.secrets),
        secrets_required=sum(1 for entry in spec.secrets.values() if entry.required),
        secrets_unused=sorted(set(spec.secrets) - used),
    )
