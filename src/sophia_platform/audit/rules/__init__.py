"""The audit rules, one module each. Registering a rule is one line in :data:`RULES`."""

from __future__ import annotations

from sophia_platform.audit.rules import (
    committed_secret,
    compose_file,
    duplicate_file,
    hardcoded_ip,
    placeholder_secret,
    redundant_workflow,
    swarm_reference,
)
from sophia_platform.audit.rules.base import CorpusRule, RepoContext, Rule

RULES: tuple[type[Rule], ...] = (
    hardcoded_ip.HardcodedIpRule,
    compose_file.ComposeFileRule,
    swarm_reference.SwarmReferenceRule,
    redundant_workflow.RedundantWorkflowRule,
    duplicate_file.DuplicateFileRule,
    placeholder_secret.PlaceholderSecretRule,
    committed_secret.CommittedSecretRule,
)


def all_rules() -> dict[str, Rule]:
    """A fresh instance of every rule, keyed by rule id (in report order)."""
    return {cls.id: cls() for cls in RULES}


__all__ = ["RULES", "CorpusRule", "RepoContext", "Rule", "all_rules"]
