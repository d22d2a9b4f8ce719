"""Helm command lines are built, never run, here: assert the exact argv."""

from __future__ import annotations

from pathlib import Path

from sophia_platform.deploy import helm

T = helm.HelmTarget(Path("/bin/helm"), "sophia-local", "acme", "acme", Path("/k/config"))
G = ["--kube-context", "sophia-local", "--namespace", "acme", "--kubeconfig", "/k/config"]


def test_upgrade_install_never_waits() -> None:
    argv = helm.upgrade_install(
        T, Path("/c"), Path("/v.json"), timeout_s=300, description="sophia deploy by me"
    )
    assert argv == [
        "/bin/helm", "upgrade", "--install", "acme", "/c", "--values", "/v.json",
        "--reset-values", "--history-max", "30", "--timeout", "300s",
        "--description", "sophia deploy by me", *G,
    ]  # fmt: skip
    assert "--wait" not in argv and "--atomic" not in argv


def test_rollback_uninstall_history_manifest() -> None:
    assert helm.rollback(T, 4, timeout_s=60) == [
        "/bin/helm", "rollback", "acme", "4", "--timeout", "60s", "--history-max", "30", *G,
    ]  # fmt: skip
    assert helm.uninstall(T, timeout_s=60) == [
        "/bin/helm",
        "uninstall",
        "acme",
        "--timeout",
        "60s",
        *G,
    ]
    assert helm.history(T) == [
        "/bin/helm",
        "history",
        "acme",
        "--output",
        "json",
        "--max",
        "100",
        *G,
    ]
    assert helm.get_manifest(T, 3) == [
        "/bin/helm",
        "get",
        "manifest",
        "acme",
        *G,
        "--revision",
        "3",
    ]


def test_template_and_lint() -> None:
    assert helm.template(T, Path("/c"), Path("/v")) == [
        "/bin/helm", "template", "acme", "/c", "--values", "/v", *G,
    ]  # fmt: skip
    assert helm.template(T, Path("/c"), Path("/v"), validate=True)[-1] == "--validate"
    assert helm.lint(Path("/bin/helm"), Path("/c"), Path("/v")) == [
        "/bin/helm", "lint", "/c", "--strict", "--values", "/v",
    ]  # fmt: skip


def test_no_kubeconfig_flag_when_default() -> None:
    t = helm.HelmTarget(Path("helm"), "ctx", "ns", "rel")
    assert t.globals() == ["--kube-context", "ctx", "--namespace", "ns"]
