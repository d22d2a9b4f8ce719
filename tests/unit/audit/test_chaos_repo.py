"""Precision and recall of every rule against the chaos repository's ground truth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sophia_platform.audit import RULE_IDS, AuditResult, scan
from tests.fixtures.chaos_repo import GroundTruth, generate

TARGET = 0.95


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> tuple[GroundTruth, AuditResult]:
    root = tmp_path_factory.mktemp("chaos") / "repo"
    truth = generate(root, files=2000, seed=11)
    return truth, scan(root)


def _found(result: AuditResult, rule_id: str) -> Counter[tuple[str, int]]:
    return Counter((f.path, f.line) for f in result.findings if f.rule_id == rule_id)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_precision_and_recall(rule_id: str, chaos: tuple[GroundTruth, AuditResult]) -> None:
    truth, result = chaos
    expected, found = truth.by_rule(rule_id), _found(result, rule_id)
    assert expected, f"the fixture plants no {rule_id}"
    hits = sum((expected & found).values())
    precision = hits / max(1, sum(found.values()))
    recall = hits / sum(expected.values())
    missed = sorted((expected - found).elements())[:5]
    extra = sorted((found - expected).elements())[:5]
    assert precision >= TARGET and recall >= TARGET, (
        f"{rule_id}: precision {precision:.3f} recall {recall:.3f}; missed {missed}; extra {extra}"
    )


def test_repository_shape(chaos: tuple[GroundTruth, AuditResult]) -> None:
    truth, result = chaos
    assert 1990 <= truth.files <= 2010
    # Lock files are generated: listed, skipped (and counted), never read by a rule.
    generated = [s.path for s in result.stats.skipped if s.reason == "generated"]
    assert sorted(generated) == ["poetry.lock", "services/dashboard/package-lock.json"]
    assert result.stats.files_scanned == truth.files - len(generated)
    assert sum(truth.by_rule("compose-file").values()) == 34  # 30 compose + 4 stack files
    assert result.metrics.secret_sync_workflows == 5
    assert set(result.metrics.deployment_methods) >= {
        "docker-compose",
        "docker-swarm",
        "kubernetes",
    }
    canonical = {f.data["canonical"] for f in result.findings if f.rule_id == "redundant-workflow"}
    assert canonical == {truth.canonical["secret-sync"]}


def test_generated_python_compiles(chaos: tuple[GroundTruth, AuditResult]) -> None:
    truth, _ = chaos
    for rel in truth.python_files:
        source = (truth.root / rel).read_text(encoding="utf-8")
        compile(source, rel, "exec")


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", files=300, seed=3, commit=False)
    b = generate(tmp_path / "b", files=300, seed=3, commit=False)
    assert a.expected == b.expected
    assert (tmp_path / "a" / ".env.production").read_text() == (
        tmp_path / "b" / ".env.production"
    ).read_text()
