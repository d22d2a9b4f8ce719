"""``swarm-reference``: Docker Swarm commands, swarm-only compose keys, overlay networks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule, normalise_line
from sophia_platform.audit.source import SourceFile

_COMMAND = re.compile(
    r"\bdocker[ \t]+(?P<noun>stack|service|swarm|node)[ \t]+"
    r"(?P<verb>deploy|rm|ps|services|ls|create|update|scale|logs|inspect|rollback|init|join|"
    r"leave|join-token|unlock|promote|demote)\b"
)
_OVERLAY_FLAG = re.compile(r"(?:--driver|-d)[ \t=]+[\"']?overlay\b")
_OVERLAY_KEY = re.compile(r"(?m)^[ \t]+driver[ \t]*:[ \t]*[\"']?overlay\b")
_SWARM_KEYS = re.compile(
    r"(?m)^[ \t]+(?P<key>placement|update_config|rollback_config|endpoint_mode)[ \t]*:"
    r"|^[ \t]+mode[ \t]*:[ \t]*[\"']?(?P<global>global)\b"
)
_HAS_SERVICES = re.compile(r"(?m)^services[ \t]*:")


class SwarmReferenceRule(Rule):
    """Docker Swarm usage: the deployment method K3s replaces."""

    id = "swarm-reference"
    order = 30
    tags = ("maintainability", "deployment")
    fixed_by_cleanup = True
    name = "SwarmReference"
    title = "Docker Swarm is used (stack/service/swarm commands, swarm-only keys, overlay)."
    help = (
        "Docker Swarm is retired; workloads run on K3s through `sophia deploy`. Remove the "
        "command or file, or archive it with `sophia cleanup apply`."
    )
    severity = Severity.WARNING

    def check(self, file: SourceFile) -> Iterator[Finding]:
        """Find Swarm constructs in one file."""
        text = file.text
        if "docker" in text:
            for match in _COMMAND.finditer(text):
                yield self._hit(
                    file, match.start(), match.end(), f"docker {match['noun']} {match['verb']}"
                )
        if "overlay" in text:
            for match in _OVERLAY_FLAG.finditer(text):
                yield self._hit(file, match.start(), match.end(), "overlay network")
            if file.kind == "yaml":
                for match in _OVERLAY_KEY.finditer(text):
                    start = match.start() + len(match.group()) - len(match.group().lstrip())
                    yield self._hit(file, start, match.end(), "overlay network")
        if file.kind == "yaml" and _HAS_SERVICES.search(text):
            for match in _SWARM_KEYS.finditer(text):
                construct = "mode: global" if match["global"] else match["key"]
                start = match.start() + len(match.group()) - len(match.group().lstrip())
                yield self._hit(file, start, match.end(), construct)

    def _hit(self, file: SourceFile, start: int, end: int, construct: str) -> Finding:
        line_start = file.text.rfind("\n", 0, start) + 1
        line_end = file.text.find("\n", end)
        line = file.text[line_start : line_end if line_end != -1 else len(file.text)]
        return self.at(
            file,
            start,
            end,
            f"Docker Swarm usage ({construct}); K3s replaces Swarm",
            basis=f"{construct}|{normalise_line(line)}",
            data={"construct": construct, "kind": file.kind},
        )
