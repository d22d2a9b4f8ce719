"""The one small interface every secrets provider implements.

A provider is a layer secrets live in. As a *source* it reads names and values
(:meth:`Provider.read`); as a *target* it reports what it holds by digest
(:meth:`Provider.state`), lays out the desired addresses (:meth:`Provider.desired`) and
applies a plan (:meth:`Provider.apply`). For ``check``/``trace`` it reports, per canonical
NAME, whether the secret is there (:meth:`Provider.inventory`). A provider that cannot do
something says why (GitHub's API can never return a value).

Adding a provider is one module and one line in :data:`~sophia_platform.secrets.providers.REGISTRY`:
the class declares its typed :attr:`Provider.Options` (each an explicit option, else an
environment variable, else a default), where it sits in the flow (:attr:`Provider.flow_order`,
for ``check`` and ``trace``), which targets it syncs to (:attr:`Provider.sync_to`), and whether
the environment is set up for it (:meth:`Provider.configured`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from sophia_platform.config import SecretValue
from sophia_platform.errors import UsageError
from sophia_platform.secrets.digest import value_digest
from sophia_platform.secrets.manifest import Manifest

if TYPE_CHECKING:
    from sophia_platform.secrets.plan import SyncPlan
    from sophia_platform.spec import Environment, Spec


@dataclass
class ProviderContext:
    """Everything a provider needs, passed in explicitly (no globals)."""

    spec: Spec
    manifest: Manifest
    env_name: str
    environment: Environment
    options: Mapping[str, Any] = field(default_factory=dict)  # parsed by each provider
    environ: Mapping[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)


_Options = TypeVar("_Options")


def option(default: Any = None, *, env: str = "") -> Any:
    """Declare a field of a provider's ``Options``: explicit value, else ``$env``, else default."""
    return field(default=default, metadata={"env": env})


def parse_options(cls: type[_Options], ctx: ProviderContext) -> _Options:
    """Build a provider's typed options from the context (keys of other providers are ignored)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = ctx.options.get(f.name)
        if value is None and f.metadata.get("env"):
            value = ctx.environ.get(f.metadata["env"]) or None
        if value is not None:
            values[f.name] = value
    return cls(**values)


@dataclass(frozen=True)
class NoOptions:
    """The options of a provider that has none."""


@dataclass
class Snapshot:
    """Values read from a source: managed ones by NAME, unmanaged ones by native name."""

    values: dict[str, SecretValue]
    unmanaged: dict[str, SecretValue] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # names deliberately skipped (run token)


@dataclass
class TargetState:
    """What a target holds: address -> digest, and which addresses are ours to prune."""

    digests: dict[str, str | None]  # None: present but not a comparable literal
    prunable: set[str]
    revision: str | None = None  # ETag / resourceVersion captured at plan time
    extra: dict[str, Any] = field(default_factory=dict)  # provider-private, never rendered
    creates: list[str] = field(
        default_factory=list
    )  # made before the first write, e.g. a namespace


PresenceStatus = Literal["present", "missing", "placeholder", "empty", "unknown"]


@dataclass(frozen=True)
class Presence:
    """Whether one secret is in one layer, and its digest when the layer can tell."""

    status: PresenceStatus
    digest: str | None = None
    updated: datetime | None = None
    where: str = ""  # e.g. "api-secrets/OPENAI_API_KEY" or "values.openai_api_key"


@dataclass(frozen=True)
class ApplyResult:
    """What an apply wrote, counted."""

    written: int
    removed: int
    requests: int
    details: tuple[str, ...] = ()


class Provider:
    """Base class: each capability raises a clear UsageError until a provider implements it."""

    kind: ClassVar[str] = "provider"
    Options: ClassVar[type[Any]] = NoOptions
    # Position in the flow GitHub -> ESC -> Kubernetes, the order check/trace show layers in;
    # None: not a layer to inspect (a source that exists only inside a workflow run).
    flow_order: ClassVar[int | None] = None
    sync_to: ClassVar[frozenset[str]] = frozenset()  # the documented flows from this source
    settable: ClassVar[bool] = False  # ``secrets set`` may write one value here

    options: Any

    def __init__(self, ctx: ProviderContext) -> None:
        self.ctx = ctx
        self.options = parse_options(self.Options, ctx)

    @classmethod
    def configured(cls, ctx: ProviderContext) -> bool:
        """Is this environment set up for the layer? Judged without contacting anything."""
        return False

    def request_count(self) -> int:
        """Requests made to the layer's API so far (the benchmark reports them)."""
        return 0

    def read(self) -> Snapshot:
        """Read every managed secret's value (and the unmanaged ones, separately)."""
        raise UsageError(f"the {self.kind} provider cannot be a sync source")

    def desired(self, snapshot: Snapshot, *, include_unmanaged: bool) -> dict[str, SecretValue]:
        """Address -> value this target should hold given a source snapshot."""
        raise UsageError(f"the {self.kind} provider cannot be a sync target")

    def state(self) -> TargetState:
        """What the target holds now, by address and digest."""
        raise UsageError(f"the {self.kind} provider cannot be a sync target")

    def apply(
        self, plan: SyncPlan, desired: dict[str, SecretValue], state: TargetState
    ) -> ApplyResult:
        """Write the plan's changes; must be idempotent and re-runnable."""
        raise UsageError(f"the {self.kind} provider cannot be a sync target")

    def inventory(self) -> dict[str, Presence]:
        """NAME -> presence of every managed secret in this layer."""
        raise UsageError(f"the {self.kind} provider cannot be inspected")

    def set_value(self, name: str, value: SecretValue) -> bool:
        """Store one value (``secrets set``); False when it was already there."""
        raise UsageError(f"'set' cannot write to {self.kind}; use 'sync' for it")

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def classify(value: SecretValue | None) -> PresenceStatus:
    """Classify as present / missing / empty / placeholder a value read from a layer."""
    from sophia_platform.config import is_placeholder

    if value is None:
        return "missing"
    raw = value.reveal()
    if not raw.strip():
        return "empty"
    if is_placeholder(raw):
        return "placeholder"
    return "present"


def presence_from_values(
    values: Mapping[str, SecretValue], where: Mapping[str, str]
) -> dict[str, Presence]:
    """Presence rows for every NAME in ``where`` given the values a layer returned."""
    rows: dict[str, Presence] = {}
    for name, address in where.items():
        value = values.get(name)
        status = classify(value)
        digest = value_digest(value.reveal()) if value is not None else None
        rows[name] = Presence(status=status, digest=digest, where=address)
    return rows
