"""What the cleanup needs from an audit finding (``sophia_platform.audit.model.Finding``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sophia_platform.audit.rules import RULES


class FindingLike(Protocol):
    """The fields of an audit finding the cleanup reads."""

    @property
    def rule_id(self) -> str: ...  # noqa: D102
    @property
    def path(self) -> str: ...  # noqa: D102
    @property
    def line(self) -> int: ...  # noqa: D102
    @property
    def column(self) -> int: ...  # noqa: D102
    @property
    def end_line(self) -> int: ...  # noqa: D102
    @property
    def end_column(self) -> int: ...  # noqa: D102
    @property
    def data(self) -> Mapping[str, str]: ...  # noqa: D102


FIXED_RULES: tuple[str, ...] = tuple(cls.id for cls in RULES if cls.fixed_by_cleanup)
"""The rules whose findings the cleanup fixes (others are left to people)."""

MANUAL_STEPS: dict[str, str] = {
    cls.id: cls.manual_step for cls in RULES if cls.manual_step and not cls.fixed_by_cleanup
}
"""Rules the cleanup does not fix (docs prose) and the step a person takes for each finding."""

DEPLOY_COMMAND = "deploy-command"
"""Not an audit rule: an old deploy command the cleanup found itself (``docker compose up`` in
docs). It is fixed with ``swarm-reference``, by the same rewriters and table."""


@dataclass(frozen=True)
class Mention:
    """A :class:`FindingLike` the cleanup made itself (see :data:`DEPLOY_COMMAND`)."""

    rule_id: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    data: Mapping[str, str] = field(default_factory=dict)
