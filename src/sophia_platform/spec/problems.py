"""A validation problem, positioned in the file: ``file:line:column: path: message``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

Loc = tuple[Any, ...]


def format_loc(loc: Loc) -> str:
    """Render a location like ``services.api.secrets[1]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, with its place and (where one helps) a hint."""

    file: str
    line: int
    column: int
    loc: Loc
    message: str
    hint: str | None = None

    @property
    def path(self) -> str:
        """The dotted path of the offending key."""
        return format_loc(self.loc)

    def at(self, file: str, line: int, column: int) -> Problem:
        """The same problem placed in a file."""
        return replace(self, file=file, line=line, column=column)

    def format(self) -> str:
        """One line: ``file:line:col: path: message (hint: ...)``."""
        text = f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


def problem(loc: Loc, message: str, hint: str | None = None) -> Problem:
    """A problem not yet placed in a file (the loader adds file, line and column)."""
    return Problem("", 0, 0, loc, message, hint)
