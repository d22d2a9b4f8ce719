"""A provider written for the registry test: a ``NAME=value`` file, as a new layer would be.

It lives in tests/ on purpose: it shows that a provider is one module (this one) plus one
line in REGISTRY, with nothing else of the package to touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.config import SecretValue
from sophia_platform.secrets.digest import value_digest
from sophia_platform.secrets.providers.base import (
    ApplyResult,
    Presence,
    Provider,
    ProviderContext,
    Snapshot,
    TargetState,
    option,
    parse_options,
    presence_from_values,
)

if TYPE_CHECKING:
    from sophia_platform.secrets.plan import SyncPlan


@dataclass(frozen=True)
class DotenvOptions:
    dotenv_path: str | None = option(env="SOPHIA_DOTENV")
    uppercase: bool = True


class DotenvProvider(Provider):
    kind: ClassVar[str] = "dotenv"
    Options = DotenvOptions
    options: DotenvOptions
    flow_order: ClassVar[int | None] = 4
    sync_to: ClassVar[frozenset[str]] = frozenset({"local"})
    settable: ClassVar[bool] = True

    @classmethod
    def configured(cls, ctx: ProviderContext) -> bool:
        path = parse_options(DotenvOptions, ctx).dotenv_path
        return bool(path and Path(path).is_file())

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self.path = Path(self.options.dotenv_path or ctx.root / ".env")

    def _load(self) -> dict[str, SecretValue]:
        if not self.path.exists():
            return {}
        pairs = (line.split("=", 1) for line in self.path.read_text().splitlines() if "=" in line)
        return {k: SecretValue(v) for k, v in pairs}

    def _save(self, values: dict[str, SecretValue]) -> None:
        text = "".join(f"{k}={v.reveal()}\n" for k, v in sorted(values.items()))
        write_text_atomic(self.path, text, mode=0o600)

    def read(self) -> Snapshot:
        stored = self._load()
        managed = self.ctx.manifest.entries
        return Snapshot(
            {k: v for k, v in stored.items() if k in managed},
            {k: v for k, v in stored.items() if k not in managed},
        )

    def inventory(self) -> dict[str, Presence]:
        return presence_from_values(
            self._load(), {n: f"dotenv:{n}" for n in self.ctx.manifest.entries}
        )

    def desired(self, snapshot: Snapshot, *, include_unmanaged: bool) -> dict[str, SecretValue]:
        return dict(snapshot.values) | (dict(snapshot.unmanaged) if include_unmanaged else {})

    def state(self) -> TargetState:
        stored = self._load()
        return TargetState(
            digests={k: value_digest(v.reveal()) for k, v in stored.items()},
            prunable=set(stored) & set(self.ctx.manifest.entries),
        )

    def apply(
        self, plan: SyncPlan, desired: dict[str, SecretValue], state: TargetState
    ) -> ApplyResult:
        values = self._load()
        for entry in plan.changes:
            if entry.action == "remove":
                values.pop(entry.address, None)
            else:
                values[entry.address] = desired[entry.address]
        self._save(values)
        return ApplyResult(len(plan.changes), 0, 0)

    def set_value(self, name: str, value: SecretValue) -> bool:
        values = self._load()
        changed = name not in values or values[name].reveal() != value.reveal()
        values[name] = value
        self._save(values)
        return changed
