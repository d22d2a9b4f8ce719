"""The audit rules, one module each, found by the registry.

Adding a rule touches one file: a module in this package with one :class:`Rule` (or
:class:`CorpusRule`) subclass carrying its id, title, severity, help, SARIF metadata and
``order``. :data:`RULES` lists every rule class in report order; :data:`RULE_IDS` their ids.
"""

from __future__ import annotations

import importlib
import pkgutil

from sophia_platform.audit.rules.base import CorpusRule, RepoContext, Rule


def _discover() -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value.__module__ == module.__name__
                and "id" in vars(value)
            ):
                if value.id in found:
                    raise RuntimeError(f"two audit rules have the id {value.id!r}")
                found[value.id] = value
    return tuple(sorted(found.values(), key=lambda cls: (cls.order, cls.id)))


RULES: tuple[type[Rule], ...] = _discover()
"""Every rule class, in report order."""

RULE_IDS: tuple[str, ...] = tuple(cls.id for cls in RULES)
"""Every rule id, in report order. The ids are a contract (SARIF ``ruleId``)."""

FILE_LEVEL_RULES: frozenset[str] = frozenset(cls.id for cls in RULES if cls.file_level)
"""Rules whose findings are whole files (line 1)."""


def all_rules() -> dict[str, Rule]:
    """A fresh instance of every rule, keyed by rule id (in report order)."""
    return {cls.id: cls() for cls in RULES}


def rule_class(rule_id: str) -> type[Rule]:
    """The class of one rule id (KeyError when unknown)."""
    return {cls.id: cls for cls in RULES}[rule_id]


__all__ = [
    "FILE_LEVEL_RULES",
    "RULES",
    "RULE_IDS",
    "CorpusRule",
    "RepoContext",
    "Rule",
    "all_rules",
    "rule_class",
]
