"""One rewriter per language, registered by one line each; :func:`for_kind` picks one."""

from __future__ import annotations

from sophia_platform.cleanup.rewriters.base import Rewriter
from sophia_platform.cleanup.rewriters.docs import DocsRewriter
from sophia_platform.cleanup.rewriters.envfile import EnvRewriter
from sophia_platform.cleanup.rewriters.jsonfile import JsonRewriter
from sophia_platform.cleanup.rewriters.python import PythonRewriter
from sophia_platform.cleanup.rewriters.shell import ShellRewriter
from sophia_platform.cleanup.rewriters.tomlfile import TomlRewriter
from sophia_platform.cleanup.rewriters.yamlfile import YamlRewriter

REWRITERS: tuple[Rewriter, ...] = (
    PythonRewriter(),
    ShellRewriter(),
    YamlRewriter(),
    EnvRewriter(),
    DocsRewriter(),
    JsonRewriter(),
    TomlRewriter(),
)


def for_kind(kind: str) -> Rewriter | None:
    """The rewriter for an audit file kind (python, shell, yaml, env, docs, json, toml)."""
    return next((r for r in REWRITERS if kind in r.kinds), None)
