"""What a read command needs of a validated ``sophia.yaml``, remembered by the file's content.

``sophia status`` asks the spec for little (each environment's context, namespace and
release; each service's kind and replicas), ``sophia cluster plan|up|verify`` for the node
inventory and ``cluster:`` settings, but validating it costs what the whole command should:
importing pydantic and building the model, about half a second of CPU. So
:func:`facts` validates a file once — with :func:`~sophia_platform.spec.load_spec`, every
cross-check included — and keeps that little as JSON under the SHA-256 of the file's bytes
and of the code that validated it (this package's version and the ``spec`` modules). The
next command on the same bytes reads the JSON and never imports pydantic; an edited file, or
another sophia, is a miss and is validated again, so a broken spec is refused as before.

The cache is ``${XDG_CACHE_HOME:-~/.cache}/sophia-platform/spec/`` (or
``$SOPHIA_SPEC_CACHE``); losing it costs one validation. It holds no secret value: names,
contexts, namespaces, replica counts and what ``nodes:``/``cluster:`` say (addresses are
still ``${VARIABLE}`` references; they are resolved from the store at run time).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform import __version__

if TYPE_CHECKING:
    from sophia_platform.spec.model import Spec

FORMAT = 2  # 2: nodes and cluster settings, for `sophia cluster`
KEEP = 256
# The modules whose code decides whether a file is valid: their bytes are part of the key.
_VALIDATORS = ("model.py", "loader.py", "checks.py", "problems.py", "facts.py")


def is_production(env: str) -> bool:
    """Environments named like production get the strict rules (pinned images, real secrets)."""
    return env.lower() in {"production", "prod"} or env.lower().startswith("prod")


@dataclass(frozen=True)
class EnvironmentFacts:
    """An environment as ``deploy.target.resolve`` reads it."""

    context: str
    namespace: str
    release: str | None = None


@dataclass(frozen=True)
class ServiceFacts:
    """A service as ``sophia status`` reads it."""

    kind: str = "deployment"
    replicas: int = 1


@dataclass(frozen=True)
class SshFacts:
    """``cluster.ssh``: how nodes are reached unless a node says otherwise."""

    user: str = "root"
    port: int = 22
    key: str | None = None
    privilege: str = "auto"


@dataclass(frozen=True)
class ClusterFacts:
    """``cluster:`` as ``sophia cluster`` reads it (defaults: the model's)."""

    k3s_version: str = ""
    disable: list[str] = field(default_factory=list)
    server_config: dict[str, Any] = field(default_factory=dict)
    ssh: SshFacts = field(default_factory=SshFacts)
    smoke_image: str = ""


@dataclass(frozen=True)
class GpuFacts:
    """A node's ``gpu:``."""

    type: str
    count: int


@dataclass(frozen=True)
class NodeFacts:
    """One node of ``nodes:`` as validated (its address still a reference)."""

    role: str
    address: str
    user: str | None = None
    port: int | None = None
    key: str | None = None
    privilege: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[str] = field(default_factory=list)
    gpu: GpuFacts | None = None

    @property
    def gpu_type(self) -> str | None:
        """The GPU model, from ``gpu.type`` or else the ``gpu-type`` label (as on ``Node``)."""
        return self.gpu.type if self.gpu else self.labels.get("gpu-type")


@dataclass(frozen=True)
class SpecFacts:
    """What read commands and ``sophia cluster`` use of a valid spec (names as on ``Spec``)."""

    project: str
    default_environment: str
    environments: dict[str, EnvironmentFacts]
    services: dict[str, ServiceFacts] = field(default_factory=dict)
    source_path: Path | None = None
    nodes: dict[str, NodeFacts] = field(default_factory=dict)
    cluster: ClusterFacts = field(default_factory=ClusterFacts)

    @classmethod
    def of(cls, spec: Spec) -> SpecFacts:
        """The facts of a validated spec."""
        c = spec.cluster
        return cls(
            project=spec.project,
            default_environment=spec.default_environment,
            environments={
                name: EnvironmentFacts(e.context, e.namespace, e.release)
                for name, e in spec.environments.items()
            },
            services={name: ServiceFacts(s.kind, s.replicas) for name, s in spec.services.items()},
            source_path=spec.source_path,
            nodes={
                name: NodeFacts(
                    n.role,
                    n.address,
                    n.user,
                    n.port,
                    n.key,
                    n.privilege,
                    dict(n.labels),
                    list(n.taints),
                    GpuFacts(n.gpu.type, n.gpu.count) if n.gpu else None,
                )
                for name, n in spec.nodes.items()
            },
            cluster=ClusterFacts(
                c.k3s_version,
                list(c.disable),
                json.loads(json.dumps(c.server_config)),
                SshFacts(c.ssh.user, c.ssh.port, c.ssh.key, c.ssh.privilege),
                c.smoke_image,
            ),
        )


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    """Where the facts of validated specs are kept."""
    env = os.environ if environ is None else environ
    if env.get("SOPHIA_SPEC_CACHE"):
        return Path(env["SOPHIA_SPEC_CACHE"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sophia-platform" / "spec"


def _key(content: bytes) -> str:
    digest = hashlib.sha256(f"sophia-spec-facts {FORMAT} {__version__}\0".encode())
    package = resources.files("sophia_platform.spec")
    for name in _VALIDATORS:
        digest.update(package.joinpath(name).read_bytes())
    digest.update(b"\0")
    digest.update(content)
    return digest.hexdigest()


def _decode(text: str, path: Path) -> SpecFacts:
    data: dict[str, Any] = json.loads(text)
    return SpecFacts(
        project=str(data["project"]),
        default_environment=str(data["default_environment"]),
        environments={k: EnvironmentFacts(**v) for k, v in data["environments"].items()},
        services={k: ServiceFacts(**v) for k, v in data["services"].items()},
        source_path=path,
        nodes={k: _node(v) for k, v in data["nodes"].items()},
        cluster=ClusterFacts(**{**data["cluster"], "ssh": SshFacts(**data["cluster"]["ssh"])}),
    )


def _node(data: dict[str, Any]) -> NodeFacts:
    gpu = data.get("gpu")
    return NodeFacts(**{**data, "gpu": GpuFacts(**gpu) if gpu else None})


def facts(path: Path) -> SpecFacts:
    """The facts of the spec at ``path``, validating it first (raising like ``load_spec``).

    Validation is skipped when these exact bytes were validated before by this code.
    """
    try:
        content = path.read_bytes()
    except OSError:
        content = None  # load_spec names the missing file and `sophia init`
    if content is not None:
        entry = cache_dir() / f"{_key(content)}.json"
        try:
            return _decode(entry.read_text(encoding="utf-8"), path)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not validated yet, or an unreadable entry: validate (and remember)
    return SpecFacts.of(load(path))


def load(path: Path) -> Spec:
    """``load_spec(path)``, remembering the facts of the bytes it validated."""
    from sophia_platform.spec.loader import load_spec

    try:
        before = path.read_bytes()
    except OSError:
        before = None
    spec = load_spec(path)
    try:
        after = path.read_bytes()
    except OSError:
        after = None
    if before is not None and before == after:  # unchanged while it was validated
        _remember(cache_dir() / f"{_key(before)}.json", SpecFacts.of(spec))
    return spec


def _remember(entry: Path, found: SpecFacts) -> None:
    """Keep the facts (best effort: a read-only cache only costs the next validation).

    Written to a temporary file and renamed, so a reader never sees half an entry. (Not
    ``atomicfile``: ``spec`` sits beside it in the layers and imports none of its siblings.)
    """
    data = asdict(found)
    data.pop("source_path")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".facts-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, sort_keys=True)
        os.replace(tmp, entry)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return
    _prune(entry.parent)


def _prune(folder: Path) -> None:
    """Keep the :data:`KEEP` newest entries (one per version of each spec file edited)."""
    with contextlib.suppress(OSError):
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
