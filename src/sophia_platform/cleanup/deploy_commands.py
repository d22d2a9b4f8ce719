"""The one table of old deploy commands (Swarm, compose) and what replaces each.

Every deploy now goes through ``./deploy.sh`` (the ``sophia`` CLI under the plan's name: Helm
on K3s from ``sophia.yaml``). The docs and shell rewriters both use :func:`replacement`, so a
command maps to the same thing wherever it is written. ``{env}`` is the environment argument:
docs show ``<env>``; scripts leave it out, and ``sophia`` then uses ``default_environment``.
When a plan writes ``./deploy.sh`` somewhere and the repository has none, it adds
:data:`WRAPPER` at the root.

A command with no single-path equivalent (``docker swarm init``, overlay networks) maps to a
note: docs get the note in place of the command, scripts get a no-op with the note as comment.
No replacement or note may itself contain a Swarm command, or the audit would flag it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WRAPPER_PATH = "deploy.sh"
WRAPPER = (
    "#!/usr/bin/env bash\n"
    "# ./deploy.sh deploy <env> | status | rollback: the one deploy path (Helm on K3s from\n"
    "# sophia.yaml), served by the sophia CLI. Written by sophia cleanup.\n"
    'exec sophia "$@"\n'
)
DEPLOY = "./deploy.sh deploy{env}"
STATUS = "./deploy.sh status{env}"
ROLLBACK = "./deploy.sh rollback{env}"
SWARM_NOTE = "retired with Docker Swarm: K3s nodes are listed under `nodes:` in `sophia.yaml`"
REMOVE_NOTE = "retired with Docker Swarm: `sophia.yaml` lists what runs; `./deploy.sh deploy`"
NETWORK_NOTE = "retired with Docker Swarm: pods reach each other over the K3s cluster network"
LOGS_NOTE = "retired with Docker Swarm: read logs with `kubectl logs` (`./deploy.sh status`)"


@dataclass(frozen=True)
class CommandMapping:
    """An old command (matched where it starts) and its replacement, or a note when none."""

    pattern: re.Pattern[str]
    new: str | None = None
    note: str | None = None


# Order matters: the first pattern that matches the command's text wins.
TABLE: tuple[CommandMapping, ...] = (
    CommandMapping(re.compile(r"docker\s+service\s+update\b.*--rollback\b"), new=ROLLBACK),
    CommandMapping(re.compile(r"docker\s+service\s+rollback\b"), new=ROLLBACK),
    CommandMapping(re.compile(r"docker\s+stack\s+deploy\b"), new=DEPLOY),
    CommandMapping(re.compile(r"docker\s+service\s+(?:create|update|scale)\b"), new=DEPLOY),
    CommandMapping(re.compile(r"docker(?:-compose|\s+compose)\b.*\bup\b"), new=DEPLOY),
    CommandMapping(
        re.compile(r"docker\s+(?:service|stack)\s+(?:ls|ps|services|inspect)\b"), new=STATUS
    ),
    CommandMapping(re.compile(r"docker\s+(?:stack|service)\s+rm\b"), note=REMOVE_NOTE),
    CommandMapping(re.compile(r"docker\s+service\s+logs\b"), note=LOGS_NOTE),
    CommandMapping(re.compile(r"docker\s+(?:swarm|node)\b"), note=SWARM_NOTE),
    CommandMapping(re.compile(r"docker\s+network\s+create\b.*\boverlay\b"), note=NETWORK_NOTE),
)  # fmt: skip

# Where a command ends inside a line: shell operators, a closing backtick, a comment; in
# prose also the end of a clause.
_END = re.compile(r"\s*(?:&&|\|\||[;|`]|\s#)")
_END_PROSE = re.compile(r"\s*(?:&&|\|\||[;|`]|\s#|[.,:)](?=\s|$))")


# Old deploy commands that no audit rule reports line by line (compose is found per file): the
# cleanup looks for these itself in docs, so they point at the one path too.
_UNREPORTED = re.compile(r"\bdocker(?:-compose|[ \t]+compose)\b[^\n`|;&]*?[ \t]up\b")


def unreported_commands(text: str) -> list[tuple[int, int, int]]:
    """(1-based line, start, end) of ``docker compose … up`` commands in ``text``."""
    found: list[tuple[int, int, int]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if "compose" in line:
            found.extend((number, m.start(), m.end()) for m in _UNREPORTED.finditer(line))
    return found


@dataclass(frozen=True)
class Replacement:
    """What replaces ``line[start:end]``: a command (``new``) or a note."""

    start: int
    end: int
    new: str | None
    note: str | None


def command_end(line: str, start: int, *, prose: bool = False) -> int:
    """The column where the command starting at ``start`` ends (exclusive, no trailing space)."""
    match = (_END_PROSE if prose else _END).search(line, start)
    end = match.start() if match else len(line.rstrip("\r\n"))
    return len(line[:end].rstrip())


def command_start(line: str, column: int) -> int:
    """Where the ``docker`` command around ``column`` starts (the site may be a flag in it)."""
    start = line.rfind("docker", 0, column + len("docker"))
    return start if start >= 0 else column


def replacement(line: str, column: int, env: str, *, prose: bool = False) -> Replacement | None:
    """The replacement of the command at ``column`` of ``line`` (None: not in the table)."""
    start = command_start(line, column)
    end = command_end(line, start, prose=prose)
    command = line[start:end]
    for mapping in TABLE:
        if mapping.pattern.match(command):
            new = mapping.new.format(env=env) if mapping.new else None
            return Replacement(start, end, new, mapping.note)
    return None
