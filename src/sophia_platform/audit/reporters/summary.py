"""The one-line summary that maps findings onto the company's success metrics."""

from __future__ import annotations

from sophia_platform.audit.model import Metrics


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(metrics: Metrics) -> str:
    """Render e.g. ``3 deployment methods (…) · 3 secret sync workflows · 57 hardcoded IPs``."""
    methods = metrics.deployment_methods
    listed = f" ({', '.join(methods)})" if methods else ""
    return " · ".join(
        [
            _n(len(methods), "deployment method") + listed,
            _n(metrics.secret_sync_workflows, "secret sync workflow"),
            _n(metrics.hardcoded_ips, "hardcoded IP") + f" ({metrics.distinct_ips} distinct)",
            _n(metrics.compose_files, "compose file"),
            _n(metrics.duplicate_files, "duplicate file"),
        ]
    )


def targets_met(metrics: Metrics) -> dict[str, bool]:
    """Which Definition-of-Done targets hold (one deploy path, one sync workflow, zero …)."""
    return {
        "one deployment method": len(metrics.deployment_methods) <= 1,
        "one secret sync workflow": metrics.secret_sync_workflows <= 1,
        "zero hardcoded IPs": metrics.hardcoded_ips == 0,
        "zero compose files": metrics.compose_files == 0,
        "zero duplicate files": metrics.duplicate_files == 0,
    }
