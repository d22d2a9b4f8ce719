"""Shell completion for ``sophia``: click's own protocol, installed like Typer installs it.

The root is a plain click group that loads commands lazily, so Typer's completion (which needs
a Typer root) does not apply; click's does. The shell calls ``sophia`` with
``_SOPHIA_COMPLETE=<shell>_complete`` and the words typed so far; the lazy group answers
command names from its registry, and only the command being completed is imported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.errors import UsageError

PROG = "sophia"
COMPLETE_VAR = "_SOPHIA_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


@dataclass(frozen=True)
class Installed:
    """What ``--install-completion`` wrote (``changed`` is empty when all was in place)."""

    shell: str
    script: Path
    rc_file: Path | None
    changed: tuple[Path, ...]


def detect_shell(explicit: str | None) -> str:
    """``explicit``, else the basename of ``$SHELL``; one of :data:`SHELLS`."""
    shell = explicit or Path(os.environ.get("SHELL", "")).name
    if shell not in SHELLS:
        shown = shell or "unknown ($SHELL is not set)"
        raise UsageError(
            f"cannot complete for shell {shown}",
            hint=f"name one: --show-completion {'|'.join(SHELLS)}",
        )
    return shell


def script(cli: click.Command, shell: str) -> str:
    """The completion script for ``shell`` (what ``--show-completion`` prints)."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships all three
        raise UsageError(f"click has no completion for {shell}")
    return cls(cli, {}, PROG, COMPLETE_VAR).source().rstrip("\n") + "\n"


def _locations(shell: str, home: Path) -> tuple[Path, Path | None, str]:
    """Where the script goes, which rc file sources it, and the line(s) that do."""
    if shell == "bash":
        path = home / ".bash_completions" / f"{PROG}.sh"
        return path, home / ".bashrc", f"source '{path}'\n"
    if shell == "zsh":
        # click's zsh script works autoloaded from fpath (it starts with #compdef)
        path = home / ".zfunc" / f"_{PROG}"
        return path, home / ".zshrc", "fpath+=~/.zfunc\nautoload -Uz compinit\ncompinit\n"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return config / "fish" / "completions" / f"{PROG}.fish", None, ""


def install(cli: click.Command, shell: str, home: Path | None = None) -> Installed:
    """Write the script and source it from the shell's rc file; a second run changes nothing."""
    home = home or Path.home()
    path, rc_file, lines = _locations(shell, home)
    text = script(cli, shell)
    changed: list[Path] = []
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text_atomic(path, text, parents=True)
        changed.append(path)
    if rc_file is not None:
        current = rc_file.read_text(encoding="utf-8") if rc_file.exists() else ""
        if lines not in current:
            sep = "" if not current or current.endswith("\n") else "\n"
            block = f"{sep}# sophia shell completion\n{lines}"
            write_text_atomic(rc_file, current + block, parents=True)
            changed.append(rc_file)
    return Installed(shell, path, rc_file, tuple(changed))
