"""The one exception tree of Sophia Platform, and the exit codes it maps onto.

Every error a user can meet derives from :class:`SophiaError`. The CLI's top-level handler
turns the class into an exit code (see DESIGN.md) and prints the message as one line, so a
message must say what went wrong and what to do next, and must never contain a secret value.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit codes shared by every command."""

    OK = 0
    NOT_OK = 1  # the checked thing is not ok: findings, unhealthy, drift
    BAD_INPUT = 2  # bad usage or bad input
    EXTERNAL = 3  # an external system failed


class SophiaError(Exception):
    """Base of every error Sophia Platform raises on purpose."""

    exit_status: ExitStatus = ExitStatus.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} (hint: {self.hint})"


class UsageError(SophiaError):
    """The command was called with arguments that do not make sense."""


class InputError(SophiaError):
    """An input file or value is missing, unreadable or invalid."""


class SpecError(InputError):
    """``sophia.yaml`` failed to load or validate; carries every problem found."""

    def __init__(self, problems: list[str], *, source: str | None = None) -> None:
        first = problems[0] if problems else "invalid spec"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)
        self.problems = problems
        self.source = source


class CheckFailed(SophiaError):
    """A check ran and its subject is not ok (findings, unhealthy, drift, refusal)."""

    exit_status = ExitStatus.NOT_OK


class ExternalError(SophiaError):
    """An external system (cluster, helm, ESC, GitHub, ssh) failed or is unreachable."""

    exit_status = ExitStatus.EXTERNAL
