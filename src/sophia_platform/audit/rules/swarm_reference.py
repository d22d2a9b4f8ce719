"""``swarm-reference``: Docker Swarm commands, swarm-only compose keys, overlay networks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sophia_platform.audit.literals import anchored, needles
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule, normalise_line
from sophia_platform.audit.source import SourceFile, finditer_in

_VERBS = (
    r"deploy|rm|ps|services|ls|create|update|scale|logs|inspect|rollback|init|join|leave|"
    r"join-token|unlock|unlock-key|promote|demote|ca"
)
_COMMAND = re.compile(
    r"\bdocker[ \t]+(?P<noun>stack|service|swarm|node|secret|config)[ \t]+"
    rf"(?P<verb>{_VERBS})\b"
)
# The same command as an argv list: ["docker", "stack", "deploy", ...] (may span lines).
_ARGV = anchored(
    re.compile(
        r"""["']docker["']\s*,\s*["'](?P<noun>stack|service|swarm|node|secret|config)["']\s*,"""
        rf"""\s*["'](?P<verb>{_VERBS})["']"""
    )
)
# Swarm labels, metrics and placement constraints (any file kind).
_MARKS = re.compile(
    r"(?P<mark>com\.docker\.swarm\.[\w.]+|com\.docker\.stack\.namespace|\bdockerswarm_\w+"
    r"|\bswarmmode\b|\bswarmMode\b|node\.role[ \t]*==|node\.labels\.[\w.-]+"
    r"|--attachable\b)"
)
# Literals one of which every _MARKS match contains (its lines are the only ones searched).
_MARK_NEEDLES = needles(
    "com.docker.",
    "dockerswarm_",
    "swarmmode",
    "swarmMode",
    "node.role",
    "node.labels.",
    "--attachable",
)
needles("docker", '"docker"', "'docker'", "attachable", "overlay")
_ATTACHABLE = re.compile(r"(?m)^[ \t]+attachable[ \t]*:[ \t]*[\"']?true\b")
_OVERLAY_FLAG = re.compile(r"(?:--driver|-d)[ \t=]+[\"']?overlay\b")
_OVERLAY_KEY = re.compile(r"(?m)^[ \t]+driver[ \t]*:[ \t]*[\"']?overlay\b")
_SWARM_KEYS = re.compile(
    r"(?m)^[ \t]+(?P<key>placement|constraints|preferences|update_config|rollback_config|"
    r"endpoint_mode)[ \t]*:"
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
        """Find Swarm constructs in one file.

        Every ``docker stack|service|…`` command is its own finding (the cleanup rewrites each
        one); other constructs (keys, labels, networks) only on a line without a finding yet,
        so ``constraints: [node.labels.gpu == true]`` is one finding, as the policy counts.
        """
        seen: set[int] = set()
        for finding in sorted(self._constructs(file), key=lambda f: (f.line, f.column)):
            command = finding.data["construct"].startswith("docker ")
            if command or finding.line not in seen:
                seen.add(finding.line)
                yield finding

    def _constructs(self, file: SourceFile) -> Iterator[Finding]:
        text = file.text
        if file.has("docker"):
            for match in finditer_in(_COMMAND, text, file.lines_with("docker")):
                yield self._hit(
                    file, match.start(), match.end(), f"docker {match['noun']} {match['verb']}"
                )
            if file.has('"docker"', "'docker'"):
                for match in file.finditer(_ARGV):
                    construct = f"docker {match['noun']} {match['verb']}"
                    yield self._hit(file, match.start(), match.end(), construct)
        marks = file.lines_with(*_MARK_NEEDLES)
        if marks:
            for match in finditer_in(_MARKS, text, marks):
                construct = match["mark"].split("==")[0].strip().rstrip(".")
                if construct.startswith("node.") and file.kind in ("python", "code"):
                    continue  # node.role == "server" in code is an object's attribute
                yield self._hit(file, match.start(), match.end(), construct)
        if file.kind == "yaml" and file.has("attachable"):
            for match in _ATTACHABLE.finditer(text):
                start = match.start() + len(match.group()) - len(match.group().lstrip())
                yield self._hit(file, start, match.end(), "attachable network")
        if file.has("overlay"):
            for match in _OVERLAY_FLAG.finditer(text):
                yield self._hit(file, match.start(), match.end(), "overlay network")
            if file.kind in ("yaml", "docs"):  # docs: a compose file in a code block
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
