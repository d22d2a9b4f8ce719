"""What the cleanup needs from an audit finding (``sophia_platform.audit.model.Finding``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


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


FIXED_RULES: tuple[str, ...] = (
    "compose-file",
    "swarm-reference",
    "redundant-workflow",
    "duplicate-file",
    "hardcoded-ip",
    "placeholder-secret",
)
"""The rules whose findings the cleanup fixes (others are left to people)."""
