"""``hardcoded-ip``: an IPv4/IPv6 literal that names a concrete host.

Not flagged: loopback, unspecified (0.0.0.0, ::), broadcast, link-local, multicast, RFC 5737
and RFC 3849 documentation ranges, netmasks, network addresses (x.y.z.0), CIDR ranges with a
prefix length, version strings (``numpy==1.26.4.1``, ``"version": "12.5.4.2"``, ``v1.2.3.4``,
``app/1.2.3.4``, ``image: nginx:1.2.3.4``, ``CUDA 12.4.1.1``), OIDs and other longer dotted
sequences, lock files. Private-range host addresses (10.x, 172.16-31.x, 192.168.x) are
findings, and so is ``name:1.2.3.4`` outside image references (``extra_hosts``). IPv6 is
looked for in its compressed form (with ``::``), which is how configs write it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from functools import lru_cache

from sophia_platform.audit.context import (
    has_version_word_before,
    is_versionish_key,
    key_before,
    usage_context,
)
from sophia_platform.audit.literals import needles
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule, normalise_line
from sophia_platform.audit.source import SourceFile, finditer_in, lines_matching

_V4 = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_V6 = re.compile(r"(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w:.])")
# What every match contains, starting with a literal the regex engine can search for fast:
# _V4 and _V6 start with a character class, so they are tried at every character of a file.
_V4_HINT = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")
_V6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
needles("::")
_PORT = re.compile(r":(\d{2,5})\b")
_DOC_NETS = (
    ipaddress.ip_network("192.0.2.0/24"),
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("2001:db8::/32"),
)


@lru_cache(maxsize=4096)  # a repository (or a bundle) repeats its few addresses
def is_host_v4(text: str) -> bool:
    """True when a dotted quad is a valid address of a concrete host."""
    octets = text.split(".")
    if any(len(o) > 1 and o[0] == "0" for o in octets):
        return False  # leading zeros: a date or version, not an address
    values = [int(o) for o in octets]
    if any(v > 255 for v in values) or values[0] == 0 or values[3] in (0, 255):
        return False
    if values[0] == 255:
        return False  # netmask
    addr = ipaddress.IPv4Address(text)
    if addr.is_loopback or addr.is_link_local or addr.is_multicast or addr.is_reserved:
        return False
    return not any(addr in net for net in _DOC_NETS)


@lru_cache(maxsize=4096)
def is_host_v6(text: str) -> bool:
    """True when an IPv6 literal is a concrete host (not loopback/doc/link-local/multicast)."""
    groups = [g for g in text.split(":") if g]
    if "::" not in text and len(groups) != 8:
        return False
    if len(groups) < 2 or sum(len(g) for g in groups) < 4:
        return False  # `a::b`-shaped code (slices, scopes), not an address
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        return False
    if addr.is_loopback or addr.is_unspecified or addr.is_link_local or addr.is_multicast:
        return False
    return not any(addr in net for net in _DOC_NETS)


def _v4_context_ok(text: str, start: int, end: int) -> bool:
    """Reject matches whose neighbouring characters make them versions, OIDs or CIDRs."""
    before = text[start - 1] if start else " "
    before2 = text[start - 2] if start > 1 else " "
    after = text[end] if end < len(text) else " "
    after2 = text[end + 1] if end + 1 < len(text) else " "
    if before.isalnum() or before in "._\\":
        return False  # v1.2.3.4, x1.2.3.4, part of a longer number or dotted sequence
    if before == "-" and before2.isalpha():
        return False  # package-1.2.3.4
    if before == "/" and before2 != "/":
        return False  # agent/1.2.3.4, path segments
    if before == "=" and before2 in "=<>~!^":
        return False  # numpy==1.26.4.1
    if before in "^~":
        return False  # ^1.2.3.4
    if after.isalnum() or after == "_":
        return False
    if after == "." and after2.isdigit():
        return False  # longer dotted sequence (OID, 5-part version)
    if after == "/" and after2.isdigit():
        return False  # CIDR: a network, not a host
    return not (after == "-" and after2.isalpha())  # 1.2.3.4-beta


_TAGGED = re.compile(r"[\w./@-]+:$")
_IMAGE_LINE = re.compile(r"(?i)\bimage\b|^\s*FROM\s|docker\s+(?:pull|run|push|tag)\b")


def is_image_tag(prefix: str, kind: str) -> bool:
    """Return True for ``name:1.2.3.4`` that tags an image (``image: nginx:1.25.3.1``).

    ``gpu1:192.222.51.151`` (extra_hosts, /etc/hosts style) stays a host address.
    """
    if not prefix.endswith(":"):
        return False  # _TAGGED ends with ":": no need to try it from 200 starting points
    token = _TAGGED.search(prefix[-200:])
    if token is None:
        return False
    return "/" in token.group() or kind == "dockerfile" or bool(_IMAGE_LINE.search(prefix))


CONTEXT_CHARS = 256


def line_window(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the line around ``text[start:end]``, at most CONTEXT_CHARS on each side."""
    low = max(0, start - CONTEXT_CHARS)
    newline = text.rfind("\n", low, start)
    line_start = newline + 1 if newline != -1 else low
    high = min(len(text), end + CONTEXT_CHARS)
    newline = text.find("\n", end, high)
    return line_start, newline if newline != -1 else high


class HardcodedIpRule(Rule):
    """Host addresses written into code, config or docs instead of read from configuration."""

    id = "hardcoded-ip"
    order = 10
    tags = ("maintainability", "configuration")
    fixed_by_cleanup = True
    name = "HardcodedIp"
    title = "A concrete host IP address is written into the repository."
    help = (
        "Server addresses belong in the inventory (`sophia.yaml` nodes) and configuration, not in "
        "code, scripts or docs. Replace the literal with a configuration lookup "
        '(`get_config_value("NODE_AI_CORE_HOST")`, `${NODE_AI_CORE_HOST}`); '
        "`sophia cleanup plan` proposes the rewrite."
    )
    severity = Severity.WARNING

    def check(self, file: SourceFile) -> Iterator[Finding]:
        """Find host addresses in one file."""
        text = file.text
        for match in finditer_in(_V4, text, lines_matching(text, _V4_HINT)):
            start, end = match.span()
            address = match.group()
            if not _v4_context_ok(text, start, end) or not is_host_v4(address):
                continue
            finding = self._finding(file, start, end, address, "4")
            if finding is not None:
                yield finding
        # Only compressed IPv6 literals ("::") are looked for: the full eight-group form is rare
        # in configs, and scanning every colon-rich YAML file for it would double the cost.
        if file.has("::"):
            for match in finditer_in(_V6, text, lines_matching(text, _V6_HINT)):
                address = match.group(1)
                after = text[match.end() : match.end() + 2]
                if (after[:1] == "/" and after[1:].isdigit()) or not is_host_v6(address):
                    continue
                start, end = match.span(1)
                finding = self._finding(file, start, end, address, "6")
                if finding is not None:
                    yield finding

    def _finding(
        self, file: SourceFile, start: int, end: int, address: str, version: str
    ) -> Finding | None:
        # The context is bounded: on a 150 KB one-line bundle every match would otherwise copy
        # (and regex-scan) the whole line before it, which is quadratic in the line's length.
        text = file.text
        line_start, line_end = line_window(text, start, end)
        prefix = text[line_start:start]
        key = key_before(prefix)
        if is_versionish_key(key) or has_version_word_before(prefix):
            return None
        if is_image_tag(prefix, file.kind):
            return None
        port_match = _PORT.match(file.text, end)
        port = port_match.group(1) if port_match else ""
        line = text[line_start:line_end]
        where = f" ({key})" if key else ""
        return self.at(
            file,
            start,
            end,
            f"hardcoded host address {address}{where}; read it from configuration instead",
            basis=f"{address}|{normalise_line(line)}",
            data={
                "address": address,
                "version": version,
                "key": key,
                "port": port,
                "kind": file.kind,
                "context": usage_context(file.kind, file.lines, file.position(start)[0], key),
            },
        )
