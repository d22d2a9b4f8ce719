"""Merging the local cluster's context into a user's kubeconfig, and taking it out (temp files)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sophia_platform.devcluster import kubeconfig as kc
from sophia_platform.errors import ExternalError, InputError
from sophia_platform.kube import merge

SERVER = "https://127.0.0.1:40001"

USER_FILE = """\
# my clusters (this comment must survive)
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: 'https://prod.example:6443'}
users:
- name: prod-admin
  user: {token: abc}
contexts:
- name: prod
  context: {cluster: prod, user: prod-admin}
current-context: prod
preferences: {}
"""


def _document(server: str = SERVER) -> dict[str, Any]:
    return {
        "clusters": [{"name": kc.CONTEXT, "cluster": {"server": server}}],
        "users": [{"name": f"{kc.CONTEXT}-admin", "user": {"client-key-data": "a2V5"}}],
        "contexts": [
            {"name": kc.CONTEXT, "context": {"cluster": kc.CONTEXT, "user": f"{kc.CONTEXT}-admin"}}
        ],
    }


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def _names(data: Any, section: str) -> list[str]:
    return [item["name"] for item in data.get(section) or []]


def test_merge_creates_a_missing_file_0600_and_sets_the_empty_current_context(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".kube" / "config"
    result = merge.merge_into(path, _document(), kc.CONTEXT, switch_context=False)
    assert result.created_file and result.current_context == kc.CONTEXT
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = _load(path)
    assert _names(data, "contexts") == [kc.CONTEXT]
    assert data["current-context"] == kc.CONTEXT
    assert not (tmp_path / ".kube" / "config.lock").exists()


def test_merge_keeps_other_entries_comments_and_the_current_context(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(USER_FILE)
    path.chmod(0o644)
    result = merge.merge_into(path, _document(), kc.CONTEXT, switch_context=False)
    assert not result.switched and result.current_context == "prod"
    text = path.read_text()
    assert "# my clusters (this comment must survive)" in text
    data = _load(path)
    assert _names(data, "clusters") == ["prod", kc.CONTEXT]
    assert _names(data, "users") == ["prod-admin", f"{kc.CONTEXT}-admin"]
    assert data["current-context"] == "prod"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it now holds an admin key


def test_merging_again_replaces_the_entries_and_switch_context_switches(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(USER_FILE)
    merge.merge_into(path, _document("https://127.0.0.1:1"), kc.CONTEXT, switch_context=False)
    result = merge.merge_into(path, _document(), kc.CONTEXT, switch_context=True)
    assert result.replaced and result.switched
    data = _load(path)
    assert _names(data, "clusters") == ["prod", kc.CONTEXT]
    assert data["clusters"][1]["cluster"]["server"] == SERVER
    assert data["current-context"] == kc.CONTEXT


def test_remove_takes_out_cluster_user_and_context_and_unsets_our_current_context(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config"
    path.write_text(USER_FILE)
    merge.merge_into(path, _document(), kc.CONTEXT, switch_context=True)
    result = merge.remove_from(path, kc.CONTEXT, server=SERVER)
    assert result.removed and result.current_context is None
    data = _load(path)
    for section in ("clusters", "users", "contexts"):
        assert not [n for n in _names(data, section) if n.startswith(kc.CONTEXT)]
    assert _names(data, "contexts") == ["prod"]
    assert data["current-context"] == ""
    assert "# my clusters" in path.read_text()


def test_remove_leaves_an_entry_that_points_at_another_server(tmp_path: Path) -> None:
    path = tmp_path / "config"
    merge.merge_into(path, _document("https://127.0.0.1:2"), kc.CONTEXT, switch_context=False)
    before = path.read_text()
    result = merge.remove_from(path, kc.CONTEXT, server=SERVER)
    assert not result.removed and path.read_text() == before


def test_remove_from_a_missing_file_is_a_no_op(tmp_path: Path) -> None:
    assert not merge.remove_from(tmp_path / "none", kc.CONTEXT, server=SERVER).removed
    assert not (tmp_path / "none").exists()


def test_a_broken_kubeconfig_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [unclosed\n")
    with pytest.raises(InputError, match="left unchanged"):
        merge.merge_into(path, _document(), kc.CONTEXT, switch_context=False)
    assert path.read_text() == "clusters: [unclosed\n"


def test_a_held_lock_file_is_waited_for_then_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(merge, "_LOCK_WAIT_S", 0.2)
    path = tmp_path / "config"
    (tmp_path / "config.lock").write_text("")
    with pytest.raises(ExternalError, match=r"config\.lock exists"):
        merge.merge_into(path, _document(), kc.CONTEXT, switch_context=False)
    assert not path.exists()


def test_merge_through_a_symlink_writes_the_target(tmp_path: Path) -> None:
    real = tmp_path / "real-config"
    real.write_text(USER_FILE)
    link = tmp_path / "config"
    link.symlink_to(real)
    merge.merge_into(link, _document(), kc.CONTEXT, switch_context=False)
    assert link.is_symlink()
    assert kc.CONTEXT in _names(_load(real), "contexts")


@pytest.mark.parametrize(
    ("kubeconfig", "expected"),
    [
        (None, "home/.kube/config"),
        ("", "home/.kube/config"),
        ("first:second", "first"),
        (":only", "only"),
    ],
)
def test_user_kubeconfig_is_the_first_kubeconfig_entry_else_home(
    tmp_path: Path, kubeconfig: str | None, expected: str
) -> None:
    env = {"HOME": str(tmp_path / "home")}
    if kubeconfig is not None:
        env["KUBECONFIG"] = ":".join(str(tmp_path / p) if p else "" for p in kubeconfig.split(":"))
    assert merge.user_kubeconfig(env) == tmp_path / expected
