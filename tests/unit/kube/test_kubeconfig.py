"""kube/kubeconfig: which credentials the fast read path takes itself, and which it leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform.errors import CheckFailed
from sophia_platform.kube import kubeconfig as kc
from sophia_platform.kube.client import Api, connect

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: token
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443/", insecure-skip-tls-verify: true}
- name: plain
  cluster: {server: "http://127.0.0.1:8080"}
contexts:
- {name: token, context: {cluster: c, user: token-user}}
- {name: token-file, context: {cluster: c, user: file-user}}
- {name: exec, context: {cluster: c, user: exec-user}}
- {name: plain, context: {cluster: plain, user: token-user}}
users:
- name: token-user
  user: {token: canary-kube-token-7f1e}
- name: file-user
  user: {tokenFile: TOKEN_FILE}
- name: exec-user
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}}
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    token = tmp_path / "token"
    token.write_text("from-a-file\n")
    p = tmp_path / "kubeconfig"
    p.write_text(KUBECONFIG.replace("TOKEN_FILE", str(token)))
    return p


def test_contexts_and_current(path: Path) -> None:
    config = kc.load(path)
    assert config.contexts == ["token", "token-file", "exec", "plain"]
    assert config.current == "token"


def test_bearer_tokens_from_the_file_or_inline(path: Path) -> None:
    config = kc.load(path)
    inline = kc.read_path(config, "token")
    assert inline is not None and inline.server == "https://127.0.0.1:6443"
    assert inline.headers == {"Authorization": "Bearer canary-kube-token-7f1e"}
    assert "canary-kube-token" not in repr(inline)  # headers are kept out of repr
    from_file = kc.read_path(config, "token-file")
    assert from_file is not None and from_file.headers["Authorization"] == "Bearer from-a-file"


def test_credentials_it_does_not_handle_go_to_the_official_client(path: Path) -> None:
    config = kc.load(path)
    assert kc.read_path(config, "exec") is None  # an exec plugin
    assert kc.read_path(config, "plain") is None  # not https
    with pytest.raises(kc.KubeconfigError, match="context 'nope' is not in"):
        kc.read_path(config, "nope")


def test_connect_uses_the_fast_path_and_refuses_unknown_contexts(path: Path) -> None:
    api = connect(path, None)  # the current context
    assert isinstance(api, Api) and api.context == "token" and api.read_path is not None
    assert api._real is None  # the kubernetes package is not loaded for reads
    with pytest.raises(CheckFailed, match="kube context 'other' is not in"):
        connect(path, "other")
    # typed calls reach the official client, built on first use from the same kubeconfig
    assert api.configuration.host == "https://127.0.0.1:6443"
    assert api._real is not None


def test_unreadable_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("[not a mapping]")
    with pytest.raises(kc.KubeconfigError, match="is not a kubeconfig"):
        kc.load(bad)
