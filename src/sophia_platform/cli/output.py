"""Rendering shared by every command: Rich consoles, JSON emission, the ``--json`` rule."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

if TYPE_CHECKING:
    from rich.console import Console

_stdout: Console | None = None
_stderr: Console | None = None


def _make(stream: Literal["stdout", "stderr"]) -> Console:
    # Rich is imported on first use: commands that print plain lines (the pre-commit hook's
    # `sophia audit --format concise`) never pay for it.
    from rich.console import Console

    file = click.get_text_stream(stream)
    # Off a terminal (CI logs, pipes) Rich would crop at 80 columns; logs can be wide.
    width = None if file.isatty() else int(os.environ.get("COLUMNS", "160"))
    return Console(file=file, soft_wrap=True, width=width)


def console() -> Console:
    """The stdout console (created on first use, so tests can capture stdout)."""
    global _stdout
    if _stdout is None or _stdout.file is not click.get_text_stream("stdout"):
        _stdout = _make("stdout")
    return _stdout


def err_console() -> Console:
    """The stderr console for progress and warnings."""
    global _stderr
    if _stderr is None or _stderr.file is not click.get_text_stream("stderr"):
        _stderr = _make("stderr")
    return _stderr


def wants_json(local_flag: bool = False) -> bool:
    """True when ``--json`` was given to the command or globally (``sophia --json ...``)."""
    if local_flag:
        return True
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        obj = ctx.obj
        if obj is not None and getattr(obj, "json", False):
            return True
        ctx = ctx.parent
    return False


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (Path, set, frozenset)):
        return str(obj) if isinstance(obj, Path) else sorted(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    return str(obj)


def to_json(data: Any) -> str:
    """Serialise results (pydantic models, dataclasses, paths, datetimes) as JSON text."""
    return json.dumps(data, default=_default, indent=2, sort_keys=False)


def emit_json(data: Any) -> None:
    """Write results as JSON to stdout."""
    click.echo(to_json(data))
