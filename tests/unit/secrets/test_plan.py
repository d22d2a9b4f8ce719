"""The diff engine: names only, changed by digest, orphans vs prune; source validation."""

from __future__ import annotations

from sophia_platform.config import SecretValue
from sophia_platform.secrets.digest import value_digest
from sophia_platform.secrets.manifest import Manifest
from sophia_platform.secrets.plan import diff, validate_source
from sophia_platform.secrets.providers.base import Snapshot, TargetState
from tests.unit.secrets.test_manifest import small_spec


def sv(text: str) -> SecretValue:
    return SecretValue(text)


def test_diff_actions() -> None:
    desired = {"a": sv("k1-value-a"), "b": sv("k1-value-b"), "c": sv("k1-value-c")}
    state = TargetState(
        digests={"a": value_digest("k1-value-a"), "b": value_digest("old"), "d": "x", "e": None},
        prunable={"d", "e", "a"},
    )
    got = {e.address: e.action for e in diff(desired, state, prune=False)}
    assert got == {"a": "unchanged", "b": "change", "c": "add", "d": "orphaned", "e": "orphaned"}
    pruned = {e.address: e.action for e in diff(desired, state, prune=True)}
    assert pruned["d"] == pruned["e"] == "remove"


def test_non_literal_target_is_a_change_with_a_note() -> None:
    state = TargetState(digests={"a": None}, prunable=set())
    (entry,) = diff({"a": sv("k1-value-a")}, state, prune=False)
    assert (entry.action, entry.note) == ("change", "replaces a non-literal value")


def test_plan_never_holds_values() -> None:
    secret = "CANARY-plan-0001"
    entries = diff({"a": sv(secret)}, TargetState(digests={}, prunable=set()), prune=False)
    assert secret not in repr(entries) and value_digest(secret) not in repr(entries)


def test_validate_source_blocks_required_and_drops_bad_values() -> None:
    manifest = Manifest.from_spec(small_spec())
    snapshot = Snapshot(
        {"A_KEY": sv("real-value-1"), "SHARED": sv("changeme"), "GROUPED": sv("")},
        unmanaged={"X": sv("real-x-1"), "Y": sv("<token>")},
    )
    usable, problems = validate_source(snapshot, manifest, allow_missing=True)
    assert set(usable.values) == {"A_KEY"}
    assert set(usable.unmanaged) == {"X"}
    assert {(p.name, p.status, p.blocking) for p in problems} == {
        ("SHARED", "placeholder", True),
        ("GROUPED", "empty", True),
        ("UNUSED", "missing", False),  # optional + allow_missing: skipped, not blocking
    }
    _, strict = validate_source(snapshot, manifest, allow_missing=False)
    assert all(p.blocking for p in strict)
