"""YAML and Helm values: an address becomes a ``${NAME}`` reference; placeholders become ``""``."""

from __future__ import annotations

from typing import ClassVar

import yaml

from sophia_platform.cleanup.plan import TextEdit
from sophia_platform.cleanup.rewriters.base import (
    Site,
    SiteRewriter,
    quoted_edit,
    quoted_span,
    reference,
    span_edit,
)

_VALUE_START = ":-[{,?="
_VALUE_END = ",]}#"


def whole_plain_scalar(line: str, site: Site) -> bool:
    """True when the site is an entire unquoted scalar (``host: 10.0.0.5``, ``- 10.0.0.5``)."""
    before = line[: site.start].rstrip()
    after = line[site.end :].strip()
    starts = not before or before[-1] in _VALUE_START
    ends = not after or after[0] in _VALUE_END
    return starts and ends and (not before or line[site.start - 1] in " \t[{,")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parses(text: str) -> bool:
    """True when ``text`` is well-formed YAML (every document).

    Syntax only (compose, no construction: a custom tag such as ``!Ref`` is fine), with
    libyaml: the pure-Python parser took most of a plan's time on large values files.
    """
    try:
        for _ in yaml.compose_all(text, Loader=_LOADER):
            pass
    except yaml.YAMLError:
        return False
    except Exception:  # a malformed stream may raise other errors from the C parser
        return False
    return True


class YamlRewriter(SiteRewriter):
    """``host: 10.0.0.5`` → ``host: "${NODE_AI_CORE_HOST}"``; ``token: changeme`` → ``""``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"yaml"})

    def edit(self, lines: list[str], site: Site) -> TextEdit:
        """Replace an address with a reference and a placeholder with an empty string."""
        if site.kind == "secret":
            return quoted_edit(lines, site, '""')
        line = lines[site.line - 1]
        ref = reference(site.name)
        plain = quoted_span(line, site) is None and whole_plain_scalar(line, site)
        return span_edit(lines, site, f'"{ref}"' if plain else ref)

    def check(self, original: str, rewritten: str) -> str | None:
        """The rewrite must parse whenever the original did (Helm templates may not)."""
        if parses(original) and not parses(rewritten):
            return "the rewritten YAML would not parse"
        return None
