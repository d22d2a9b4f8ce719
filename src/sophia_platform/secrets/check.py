"""``check``: every managed secret in every configured layer, and who breaks if it is not ok.

Per layer a secret is present, missing, placeholder or empty; across layers it is stale when
the digests differ. Services consuming a required secret that is not healthy would break.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sophia_platform.secrets.manifest import Manifest
from sophia_platform.secrets.providers.base import Presence, Provider


@dataclass(frozen=True)
class CheckRow:
    """One secret across the layers."""

    name: str
    required: bool
    layers: dict[str, str]  # layer -> present/missing/placeholder/empty/unknown/n/a
    stale: bool
    healthy: bool
    services: tuple[str, ...]


@dataclass
class CheckReport:
    """The check of one environment."""

    environment: str
    layers: list[str]
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when every required secret is healthy in every layer."""
        return all(row.healthy or not row.required for row in self.rows)

    @property
    def broken_services(self) -> list[str]:
        """Services that consume a required secret that is not healthy."""
        return sorted({s for r in self.rows if r.required and not r.healthy for s in r.services})


def check(manifest: Manifest, providers: dict[str, Provider], environment: str) -> CheckReport:
    """Inventory every layer and compare them secret by secret."""
    inventories: dict[str, dict[str, Presence]] = {
        layer: provider.inventory() for layer, provider in providers.items()
    }
    report = CheckReport(environment=environment, layers=list(providers))
    for name, entry in sorted(manifest.entries.items()):
        statuses: dict[str, str] = {}
        digests: set[str] = set()
        ok = True
        for layer, rows in inventories.items():
            presence = rows.get(name)
            if presence is None or (layer == "kubernetes" and not entry.kube_secrets):
                statuses[layer] = "n/a"
                continue
            statuses[layer] = presence.status
            ok = ok and presence.status == "present"
            if presence.digest:
                digests.add(presence.digest)
        stale = len(digests) > 1
        report.rows.append(
            CheckRow(name, entry.required, statuses, stale, ok and not stale, entry.services)
        )
    return report
