"""YAML and Helm values: an address becomes a ``${NAME}`` reference; placeholders become ``""``."""

from __future__ import annotations

import io
from typing import ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from sophia_platform.cleanup.plan import TextEdit
from sophia_platform.cleanup.rewriters.base import (
    Rewrite,
    Rewriter,
    Site,
    quoted_span,
    span_edit,
    split_lines,
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


def parses(text: str) -> bool:
    """True when ``text`` is well-formed YAML (every document)."""
    try:
        for _ in YAML(typ="safe", pure=True).load_all(io.StringIO(text)):
            pass
    except YAMLError:
        return False
    except Exception:
        return False
    return True


class YamlRewriter(Rewriter):
    """``host: 10.0.0.5`` → ``host: "${NODE_AI_CORE_HOST}"``; ``token: changeme`` → ``""``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"yaml"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Replace addresses with references and placeholders with empty strings."""
        lines = split_lines(text)
        out = Rewrite()
        for site in sites:
            line = lines[site.line - 1]
            quoted = quoted_span(line, site)
            if site.kind == "secret":
                start, end = quoted or (site.start, site.end)
                out.edits.append(TextEdit(site.line, start, end, line[start:end], '""'))
                continue
            ref = "${" + site.name + "}"
            new = f'"{ref}"' if quoted is None and whole_plain_scalar(line, site) else ref
            out.edits.append(span_edit(lines, site, new))
        return out

    def check(self, original: str, rewritten: str) -> str | None:
        """The rewrite must parse whenever the original did (Helm templates may not)."""
        if parses(original) and not parses(rewritten):
            return "the rewritten YAML would not parse"
        return None
