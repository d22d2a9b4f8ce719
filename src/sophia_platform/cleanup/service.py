"""The cleanup as the CLI uses it: audit the repository, plan, save and load plan files."""

from __future__ import annotations

from pathlib import Path

from sophia_platform.atomicfile import write_atomic
from sophia_platform.cleanup.findings import FIXED_RULES
from sophia_platform.cleanup.journal import state_dir
from sophia_platform.cleanup.plan import Plan
from sophia_platform.cleanup.planner import PlanOptions, make_plan
from sophia_platform.errors import InputError, UsageError

DEFAULT_PLAN = ".sophia/cleanup/plan.json"


def parse_rules(text: str | None) -> frozenset[str]:
    """``--rules hardcoded-ip,compose-file`` → a set; refuses rules the cleanup cannot fix."""
    if not text:
        return frozenset(FIXED_RULES)
    rules = frozenset(r.strip() for r in text.split(",") if r.strip())
    unknown = sorted(rules - set(FIXED_RULES))
    if unknown:
        raise UsageError(
            f"cleanup cannot fix {', '.join(unknown)}; choose from {', '.join(FIXED_RULES)}"
        )
    return rules


def plan_repository(
    root: Path, *, spec_path: Path | None = None, rules: frozenset[str] | None = None
) -> Plan:
    """Audit ``root`` and plan the fixes."""
    from sophia_platform.audit.scanner import scan  # deferred: the scanner loads every rule

    result = scan(root)
    options = PlanOptions(spec_path=spec_path, rules=rules or frozenset(FIXED_RULES))
    return make_plan(root, result.findings, options)


def save_plan(root: Path, plan: Plan, out: Path | None = None) -> Path:
    """Write the plan file (default ``.sophia/cleanup/plan.json``, ignored by git)."""
    state_dir(root)
    path = out or root / DEFAULT_PLAN
    write_atomic(path, plan.to_json().encode("utf-8"), mode=0o600, parents=True)
    return path


def load_plan(root: Path, path: Path | None) -> Plan:
    """The plan to apply: the given file, else the default plan file."""
    chosen = path or root / DEFAULT_PLAN
    if path is None and not chosen.exists():
        raise InputError("no plan to apply; run 'sophia cleanup plan' first, or pass --yes")
    return Plan.read(chosen)
