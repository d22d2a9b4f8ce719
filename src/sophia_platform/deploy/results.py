"""What the deploy verbs take and give: options, typed outcomes and steps, results and failures.

The core never renders: it reports :class:`Step` values to an :class:`Observer` while it works
and returns a :class:`DeployResult` (or raises one of the failures below, which carry it).
``cli/`` turns all of them into text, a live table or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sophia_platform.errors import CheckFailed, ExternalError

if TYPE_CHECKING:
    from sophia_platform.deploy.diff import ObjectDiff
    from sophia_platform.deploy.preflight import Check, Preflight
    from sophia_platform.kube.rollout import PodFailure, RolloutSnapshot


class Outcome(StrEnum):
    """How a deploy or rollback ended (the strings are part of the JSON output)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    DRY_RUN = "dry-run"
    LOCK_LOST = "lock-lost"


class Action(StrEnum):
    """The small actions a verb is made of."""

    INSTALL = "install"
    UPGRADE = "upgrade"
    ROLLBACK = "rollback"
    RECOVER = "recover"
    UNINSTALL = "uninstall"


class StepKind(StrEnum):
    """What the verb is doing now."""

    PREFLIGHT = "preflight"
    LOCK = "lock"  # taking the deploy lock of ``namespace``
    LOCK_WAIT = "lock-wait"  # waiting for ``holder``
    RECOVER = "recover"  # marking stuck ``revision`` failed
    APPLY = "apply"  # helm upgrade --install (``action`` install or upgrade)
    WATCH = "watch"  # waiting for ``revision`` to roll out
    ROLLBACK = "rollback"  # rolling back from ``revision`` to ``to``
    UNINSTALL = "uninstall"  # a first install failed: removing it
    NAMESPACE = "namespace"  # created the missing ``namespace`` (helm --create-namespace)
    NAMESPACE_MISSING = "namespace-missing"  # dry run: ``namespace`` is missing, a deploy makes it


@dataclass(frozen=True)
class Step:
    """One step of a verb, with the facts ``cli/`` needs to describe it."""

    kind: StepKind
    release: str = ""
    namespace: str = ""
    revision: int | None = None
    to: int | None = None
    holder: str | None = None
    action: Action | None = None
    automatic: bool = False  # a rollback the deploy made on its own


class Observer(Protocol):
    """What the verbs report while they work (the CLI renders it)."""

    def step(self, step: Step) -> None:
        """Report that a step started."""

    def checked(self, result: Preflight) -> None:
        """Report the preflight verdict."""

    def rollout(self, snapshot: RolloutSnapshot) -> None:
        """Report one poll of the rollout."""


class SilentObserver:
    """An observer that ignores everything (tests, --json)."""

    def step(self, step: Step) -> None:
        """Ignore."""

    def checked(self, result: Preflight) -> None:
        """Ignore."""

    def rollout(self, snapshot: RolloutSnapshot) -> None:
        """Ignore."""


@dataclass(frozen=True)
class DeployOptions:
    """How to deploy or roll back."""

    image_tag: str | None = None
    dry_run: bool = False
    timeout_s: int = 300
    grace_s: float = 10.0
    lock_wait_s: float = 0.0
    lock_ttl_s: int = 120
    recover: bool = False
    overrides: Mapping[str, Any] = field(default_factory=dict)
    kubeconfig: Path | None = None


@dataclass
class DeployResult:
    """What a deploy or rollback did."""

    env: str
    release: str
    namespace: str
    action: str  # deploy | rollback
    outcome: Outcome
    revision: int | None = None
    previous_revision: int | None = None
    rolled_back_to: int | None = None
    duration_s: float = 0.0
    images: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    failure: PodFailure | None = None
    objects: list[str] = field(default_factory=list)
    plan: list[ObjectDiff] = field(default_factory=list)  # dry run: each object's change
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    namespace_created: bool = False  # (on a dry run: would be created)
    message: str = ""


class PreflightRefused(CheckFailed):
    """Preflight found a reason not to deploy; nothing was changed."""

    def __init__(self, result: Preflight) -> None:
        first = result.refusals[0]
        more = f" (and {len(result.refusals) - 1} more)" if len(result.refusals) > 1 else ""
        super().__init__(f"preflight refused: {first.name}: {first.detail}{more}")
        self.preflight = result


class DeployFailed(CheckFailed):
    """The rollout failed; the release was rolled back (details in ``result``)."""

    def __init__(self, message: str, result: DeployResult) -> None:
        super().__init__(message, hint="see the pod events above; fix and deploy again")
        self.result = result


class LockLost(ExternalError):
    """The deploy lock could not be renewed: the verb stopped waiting (exit 3)."""

    def __init__(self, message: str, result: DeployResult) -> None:
        super().__init__(
            message,
            hint="see `sophia lock status` and `sophia status`; deploy again once the lock is free",
        )
        self.result = result
