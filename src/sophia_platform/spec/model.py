"""The pydantic model of ``sophia.yaml``: the one source of truth everything is derived from.

Field-level rules live here (types, ranges, formats). Rules that relate one part of the file to
another (a service consuming an undeclared secret, a GPU request no node satisfies) live in
:mod:`sophia_platform.spec.checks`, so each problem can be reported with its own position.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_VAR_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?\.)*[A-Za-z]{2,63}$"
)
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|M|G|T|P)?$")
_ESC_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_KUBE_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Model(BaseModel):
    """Base: unknown keys are errors (with a did-you-mean hint from the loader)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _dns_label(value: str, what: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{what} {value!r} must be a DNS label: lower-case letters, digits and '-', "
            "starting with a letter, at most 63 characters"
        )
    return value


def _is_ip_literal(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


class Environment(_Model):
    """One deployment target: a kube context, a namespace and an ESC environment."""

    context: str = Field(min_length=1, description="kubeconfig context of the cluster")
    namespace: str = Field(description="namespace every service of this environment runs in")
    esc: str | None = Field(
        default=None,
        description="Pulumi ESC environment as org/project/env",
        examples=["acme/default/prod"],
    )
    release: str | None = Field(default=None, description="Helm release name (default: project)")
    values: dict[str, Any] = Field(
        default_factory=dict, description="chart value overrides for this environment"
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return _dns_label(value, "namespace")

    @field_validator("esc")
    @classmethod
    def _esc(cls, value: str | None) -> str | None:
        if value is not None and not _ESC_REF.match(value):
            raise ValueError(f"must be org/project/environment, got {value!r}")
        return value


class Gpu(_Model):
    """GPUs a node offers: the model (becomes the ``gpu-type`` label) and how many."""

    type: str = Field(min_length=1, description="GPU model, e.g. GH200, A100")
    count: int = Field(default=1, ge=1, le=64)


_TAINT = re.compile(
    r"^[A-Za-z0-9][-A-Za-z0-9_./]*(=[-A-Za-z0-9_.]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$"
)
Privilege = Literal["auto", "root", "sudo"]


def _taints(value: list[str]) -> list[str]:
    for taint in value:
        if not _TAINT.match(taint):
            raise ValueError(
                f"taint {taint!r} must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute"
            )
    return value


def _key_path(value: str | None) -> str | None:
    if value is not None and not (_VAR_REF.match(value) or value.startswith(("/", "~"))):
        raise ValueError("must be an absolute path, a ~/ path or a ${VARIABLE} reference")
    return value


class SshDefaults(_Model):
    """How every node is reached over SSH, unless the node says otherwise."""

    user: str = Field(default="root", min_length=1, description="SSH user")
    port: int = Field(default=22, ge=1, le=65535)
    key: str | None = Field(
        default=None,
        description="private key file (a path or ${VARIABLE}); none: ssh-agent and ~/.ssh keys. "
        "A passphrase comes from $SOPHIA_SSH_KEY_PASSPHRASE, never from the file or argv",
    )
    privilege: Privilege = Field(
        default="auto", description="root: run as the SSH user; sudo: `sudo -n`; auto: by user"
    )

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return _key_path(value)


class ClusterSettings(_Model):
    """How ``sophia cluster`` builds the K3s cluster from ``nodes:``."""

    k3s_version: str = Field(
        default="v1.36.3+k3s1", pattern=r"^v1\.\d+\.\d+\+k3s\d+$", description="pinned K3s"
    )
    disable: list[str] = Field(
        default_factory=lambda: ["traefik"], description="packaged components to disable"
    )
    server_config: dict[str, Any] = Field(
        default_factory=dict, description="extra keys of the server's /etc/rancher/k3s/config.yaml"
    )
    ssh: SshDefaults = Field(default_factory=SshDefaults)
    smoke_image: str = Field(
        default="nvcr.io/nvidia/cuda:12.9.1-base-ubuntu24.04",
        description="pinned CUDA base image of the GPU smoke pod (runs nvidia-smi)",
    )


class Node(_Model):
    """One machine of the inventory. Its address comes from configuration, never from the file."""

    role: Literal["server", "agent"]
    address: str = Field(description="a ${VARIABLE} reference (or a DNS name), never an IP literal")
    user: str | None = Field(default=None, description="SSH user (default: cluster.ssh.user)")
    port: int | None = Field(default=None, ge=1, le=65535, description="SSH port")
    key: str | None = Field(default=None, description="private key file (path or ${VARIABLE})")
    privilege: Privilege | None = Field(default=None, description="root, sudo or auto")
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[str] = Field(default_factory=list, description="key[=value]:Effect")
    gpu: Gpu | None = None

    @field_validator("taints")
    @classmethod
    def _check_taints(cls, value: list[str]) -> list[str]:
        return _taints(value)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return _key_path(value)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if _is_ip_literal(value):
            raise ValueError(
                "a literal IP address is not allowed here; write a reference like "
                "${NODE_AI_CORE_HOST} and set the address in config or the secrets store"
            )
        if not (_VAR_REF.match(value) or _HOSTNAME.match(value)):
            raise ValueError(f"must be a ${{VARIABLE}} reference or a DNS name, got {value!r}")
        return value

    @property
    def address_var(self) -> str | None:
        """The variable the address is read from (``NODE_AI_CORE_HOST``), if it is a reference."""
        match = _VAR_REF.match(self.address)
        return match.group(1) if match else None

    @property
    def gpu_type(self) -> str | None:
        """The GPU model, from ``gpu.type`` or else the ``gpu-type`` label."""
        return self.gpu.type if self.gpu else self.labels.get("gpu-type")


class Resources(_Model):
    """CPU and memory requests and limits, as Kubernetes quantities."""

    cpu: str | None = None
    memory: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None

    @field_validator("cpu", "memory", "cpu_limit", "memory_limit")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None and not _QUANTITY.match(value):
            raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 4Gi)")
        return value


class Ingress(_Model):
    """Expose a service outside the cluster."""

    host: str
    path: str = "/"
    tls: bool = True


class Build(_Model):
    """How CI builds a service's image (the image is then tagged with the commit SHA)."""

    context: str = Field(min_length=1, description="build context, relative to the repo root")
    dockerfile: str | None = Field(
        default=None,
        description="Dockerfile path relative to the repo root (default: <context>/Dockerfile)",
    )


class Service(_Model):
    """One workload: a Deployment (default) or a StatefulSet with storage."""

    image: str = Field(
        min_length=1, description="image name; the registry is prefixed unless it has one"
    )
    tag: str | None = Field(
        default=None, description="image tag; `latest` is refused in production"
    )
    kind: Literal["deployment", "statefulset"] = "deployment"
    port: int | None = Field(default=None, description="main container port")
    ports: dict[str, int] = Field(default_factory=dict, description="extra named ports")
    replicas: int = Field(default=1, ge=0, le=1000)
    health: str | None = Field(default=None, description="HTTP path of the health endpoint")
    resources: Resources = Field(default_factory=Resources)
    gpu: int = Field(default=0, ge=0, le=64, description="nvidia.com/gpu per pod")
    gpu_type: str | None = Field(default=None, description="required gpu-type node label")
    storage: str | None = Field(default=None, description="persistent volume size (statefulset)")
    depends_on: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="plain, non-secret variables")
    secrets: list[str] = Field(default_factory=list, description="names from the secrets manifest")
    command: list[str] | None = None
    args: list[str] | None = None
    ingress: Ingress | None = None
    build: Build | None = Field(
        default=None, description="build context: CI builds and pushes this service's image"
    )
    annotations: dict[str, str] = Field(
        default_factory=dict,
        description="pod annotations; `sophia migrate compose` keeps compose facts the model "
        "has no field for here (restart policy, exec health check, depends_on condition)",
    )

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 65535:
            raise ValueError("must be 1-65535")
        return value

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: dict[str, int]) -> dict[str, int]:
        for name, port in value.items():
            if not 1 <= port <= 65535:
                raise ValueError(f"port {name!r} must be 1-65535")
        return value

    @field_validator("health")
    @classmethod
    def _health(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must be an HTTP path starting with '/'")
        return value

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        if value is not None and not _QUANTITY.match(value):
            raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 10Gi)")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid environment variable name")
        return value


class KubeSecretRef(_Model):
    """Where a secret lives in Kubernetes: which Secret (default: per service) and which key."""

    secret: str | None = None
    key: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not _KUBE_KEY.match(value):
            raise ValueError(f"{value!r} is not a valid Kubernetes Secret key ([-._a-zA-Z0-9]+)")
        return value


class SecretEntry(_Model):
    """One row of the secrets manifest: the secret's name in every layer."""

    github: str | None = Field(default=None, description="GitHub secret name (default: the key)")
    esc: str | None = Field(default=None, description="ESC path (default: lower-case key)")
    kubernetes: KubeSecretRef = Field(default_factory=KubeSecretRef)
    required: bool = True
    description: str = ""


class Ci(_Model):
    """The quality gates of the CI workflow (``sophia ci workflow``): shell commands, in order."""

    python: str = Field(default="3.12", description="Python version the gates run on")
    install: list[str] = Field(
        default_factory=lambda: ["pip install ruff pytest"],
        description="commands that install what the gates need",
    )
    lint: list[str] = Field(
        default_factory=lambda: ["ruff check ."], description="lint commands (default: ruff)"
    )
    test: list[str] = Field(
        default_factory=lambda: ["pytest -q"], description="test commands (default: pytest)"
    )


class Spec(_Model):
    """The whole ``sophia.yaml``."""

    project: str
    registry: str = Field(min_length=1, description="image registry prefix, e.g. docker.io/acme")
    default_environment: str = Field(
        default="", description="environment used when a command names none (default: the first)"
    )
    environments: dict[str, Environment] = Field(min_length=1)
    nodes: dict[str, Node] = Field(default_factory=dict)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    services: dict[str, Service] = Field(default_factory=dict)
    secrets: dict[str, SecretEntry] = Field(default_factory=dict)
    config: dict[str, str] = Field(
        default_factory=dict, description="non-secret configuration keys (addresses, URLs)"
    )
    ci: Ci = Field(default_factory=Ci, description="CI quality gates (sophia ci workflow)")

    _source_path: Any = PrivateAttr(default=None)

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return _dns_label(value, "project")

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, Service]) -> dict[str, Service]:
        for name in value:
            _dns_label(name, "service name")
        return value

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretEntry]) -> dict[str, SecretEntry]:
        for name, entry in value.items():
            if not _ENV_NAME.match(name):
                raise ValueError(f"secret name {name!r} must look like an env var (OPENAI_API_KEY)")
            entry.github = entry.github or name
            entry.esc = entry.esc or name.lower()
            entry.kubernetes.key = entry.kubernetes.key or name
        return value

    @property
    def source_path(self) -> Any:
        """The file this spec was loaded from (a ``Path``), or None."""
        return self._source_path

    @model_validator(mode="after")
    def _default_environment(self) -> Spec:
        if not self.default_environment and self.environments:
            self.default_environment = next(iter(self.environments))
        return self

    def environment(self, name: str | None) -> tuple[str, Environment]:
        """Look up an environment by name (None: the default), or raise KeyError."""
        key = name or self.default_environment
        return key, self.environments[key]

    def release_name(self, env: str) -> str:
        """The Helm release name of an environment."""
        return self.environments[env].release or self.project

    def image_ref(self, service: str, tag: str | None = None) -> str:
        """The full image reference of a service (registry prefixed unless the image has one)."""
        svc = self.services[service]
        image = svc.image
        first = image.split("/", 1)[0]
        has_registry = "/" in image and ("." in first or ":" in first or first == "localhost")
        if not has_registry and "/" not in image and ":" not in image:
            image = f"{self.registry}/{image}"
        if ":" in image.rsplit("/", 1)[-1] or "@" in image:
            return image
        return f"{image}:{tag or svc.tag or 'latest'}"
