"""gitops init: the tree derived from sophia.yaml, idempotent, with a diff."""

from __future__ import annotations

import pytest

from sophia_platform.errors import UsageError
from sophia_platform.gitops.layout import Layout
from sophia_platform.gitops.manifests import TreeOptions
from sophia_platform.gitops.repo import set_image
from sophia_platform.gitops.tree import init, load_yaml, tagged_services
from sophia_platform.gitops.urls import check_repo_url
from sophia_platform.resources import chart_dir

from .conftest import Repo

URL = "https://git.example.com/acme/platform.git"


def _flux(**kw: object) -> TreeOptions:
    return TreeOptions(engine="flux", repo_url=URL, **kw)  # type: ignore[arg-type]


def test_flux_tree_files_and_objects(repo: Repo) -> None:
    result = init(repo.spec, "production", _flux(git_secret="git-auth"), repo.work, dry_run=False)
    paths = {f.path for f in result.files}
    assert {
        "kubernetes/production/values.yaml",
        "kubernetes/production/flux/gitrepository.yaml",
        "kubernetes/production/flux/helmrelease.yaml",
        "kubernetes/production/flux/kustomization.yaml",
        "kubernetes/charts/sophia-platform/Chart.yaml",
    } <= paths
    assert all(f.action == "create" for f in result.files)
    # the chart is the one sophia ships, byte for byte
    shipped = (chart_dir() / "templates" / "workload.yaml").read_text()
    copied = repo.work / "kubernetes/charts/sophia-platform/templates/workload.yaml"
    assert copied.read_text() == shipped
    flux = repo.work / "kubernetes/production/flux"
    src = load_yaml((flux / "gitrepository.yaml").read_text())
    assert src["spec"]["url"] == URL and src["spec"]["ref"] == {"branch": "main"}
    assert src["spec"]["secretRef"] == {"name": "git-auth"}  # by name, never a value
    hr = load_yaml((flux / "helmrelease.yaml").read_text())["spec"]
    assert hr["targetNamespace"] == hr["storageNamespace"] == "acme-prod"
    assert hr["releaseName"] == "acme"
    assert hr["install"] == {"createNamespace": True, "remediation": {"retries": 3}}
    assert hr["upgrade"]["remediation"] == {
        "retries": 3,
        "strategy": "rollback",
        "remediateLastFailure": True,
    }
    assert hr["driftDetection"] == {"mode": "enabled"}
    chart = hr["chart"]["spec"]
    assert chart["reconcileStrategy"] == "Revision"
    assert chart["valuesFiles"][-1] == "kubernetes/production/values.yaml"
    assert load_yaml((flux / "kustomization.yaml").read_text())["resources"] == [
        "gitrepository.yaml",
        "helmrelease.yaml",
    ]
    values = load_yaml((repo.work / "kubernetes/production/values.yaml").read_text())
    # production's own values from sophia.yaml are in the committed file
    assert values["services"]["api"]["autoscaling"]["enabled"] is True
    assert values["services"]["api"]["secret"]["name"] == "api-secrets"


def test_argocd_tree(repo: Repo) -> None:
    opts = TreeOptions(engine="argocd", repo_url=URL, branch="release")
    init(repo.spec, "production", opts, repo.work, dry_run=False)
    folder = repo.work / "kubernetes/production/argocd"
    app = load_yaml((folder / "application.yaml").read_text())
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert app["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true"]
    source = app["spec"]["source"]
    assert source["path"] == "kubernetes/charts/sophia-platform"
    assert source["targetRevision"] == "release"
    # relative to the chart folder, the value file is the environment's committed one
    chart = repo.work / source["path"]
    assert (chart / source["helm"]["valueFiles"][0]).resolve() == (
        repo.work / "kubernetes/production/values.yaml"
    ).resolve()
    project = load_yaml((folder / "appproject.yaml").read_text())
    assert project["spec"]["sourceRepos"] == [URL]
    assert project["spec"]["destinations"][0]["namespace"] == "acme-prod"
    assert Layout("production").detect(repo.work) == "argocd"


def test_rerun_is_idempotent_and_shows_a_diff(repo: Repo) -> None:
    init(repo.spec, "local", _flux(), repo.work, dry_run=False)
    again = init(repo.spec, "local", _flux(), repo.work, dry_run=False)
    assert again.changed == []
    changed = init(repo.spec, "local", _flux(retries=5), repo.work, dry_run=True)
    assert [f.path for f in changed.changed] == ["kubernetes/local/flux/helmrelease.yaml"]
    diff = changed.changed[0].diff
    assert "-      retries: 3" in diff and "+      retries: 5" in diff
    # a dry run wrote nothing
    text = (repo.work / "kubernetes/local/flux/helmrelease.yaml").read_text()
    assert "retries: 3" in text and "retries: 5" not in text


def test_rerun_keeps_tags_moved_by_set_image(repo: Repo) -> None:
    init(repo.spec, "local", _flux(), repo.work, dry_run=False)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "tree")
    set_image(repo.spec, repo.work, "local", "abc1234", push=False)
    again = init(repo.spec, "local", _flux(), repo.work, dry_run=False)
    assert again.changed == []
    values = load_yaml((repo.work / "kubernetes/local/values.yaml").read_text())
    assert {n: s["image"]["tag"] for n, s in values["services"].items()} == {
        "api": "abc1234",
        "inference": "abc1234",
        "worker": "abc1234",
        "redis": "7.4",
        "postgres": "16",
    }


def test_one_engine_per_environment(repo: Repo) -> None:
    init(repo.spec, "local", _flux(), repo.work, dry_run=False)
    with pytest.raises(UsageError, match="managed by flux"):
        init(
            repo.spec,
            "local",
            TreeOptions(engine="argocd", repo_url=URL),
            repo.work,
            dry_run=False,
        )


def test_unknown_environment(repo: Repo) -> None:
    with pytest.raises(UsageError, match="unknown environment 'nope'"):
        init(repo.spec, "nope", _flux(), repo.work, dry_run=True)


def test_tagged_services_are_ours_only(repo: Repo) -> None:
    assert tagged_services(repo.spec) == ["api", "inference", "worker"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("git@github.com:acme/app.git", "ssh://git@github.com/acme/app.git"),
        ("https://user:tok3n@github.com/acme/app.git", "password or token"),
        ("ftp://example.com/x", "must be https"),
    ],
)
def test_repo_url_refusals(url: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        check_repo_url(url)
    assert message in str(info.value)
    assert "tok3n" not in str(info.value)


def test_repo_url_accepted() -> None:
    assert check_repo_url("ssh://git@host:2222/acme/app.git").startswith("ssh://")
    assert check_repo_url(URL) == URL


def test_tree_has_no_secret_value(repo: Repo) -> None:
    """The tree names Secrets; values never come near it (the audit checks it too)."""
    init(repo.spec, "production", _flux(git_secret="git-auth"), repo.work, dry_run=False)
    from sophia_platform.audit.scanner import scan

    result = scan(repo.work)
    rules = {"committed-secret", "placeholder-secret", "hardcoded-ip"}
    bad = [f for f in result.findings if f.rule_id in rules and f.path.startswith("kubernetes/")]
    assert bad == []
