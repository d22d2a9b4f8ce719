from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sophia_platform.audit import ScanOptions, scan
from sophia_platform.audit.rules.duplicate_file import family

BODY = "\n".join(f"line number {i} of the deploy script" for i in range(40)) + "\n"
SYNC_SH = "for s in $(gh secret list); do esc env set o/p/e $s x; done\n"
SYNC_WF = (
    "name: sync\non: push\njobs:\n  s:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: pulumi env set org/proj/prod openai_api_key\n"
    "          ${{ secrets.OPENAI_API_KEY }} --secret\n"
)


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("svc/Dockerfile", "svc/Dockerfile.fixed"),
        ("scripts/script.py", "scripts/script_enhanced.py"),
        ("scripts/deploy.sh", "scripts/deploy_v2.sh"),
        ("scripts/deploy.sh", "scripts/deploy-backup.sh"),
        ("conf/app.yaml", "conf/app.yaml.bak"),
    ],
)
def test_name_families(a: str, b: str) -> None:
    assert family(a)[:2] == family(b)[:2]
    assert not family(a)[2] and family(b)[2]


@pytest.mark.parametrize(
    ("a", "b"),
    [("a/Dockerfile", "b/Dockerfile.fixed"), ("docker-compose.prod.yml", "docker-compose.dev.yml")],
)
def test_name_families_negative(a: str, b: str) -> None:
    assert family(a)[:2] != family(b)[:2]


def test_exact_and_near_duplicates(tmp_path: Path) -> None:
    near = BODY.replace("line number 3 ", "line NUMBER 3 ")
    root = repo(
        tmp_path,
        {
            "scripts/deploy.sh": BODY,
            "tools/deploy.sh": BODY,
            "scripts/deploy_enhanced.sh": near,
            "scripts/deploy_other.sh": "something else entirely\n" * 10,
            "scripts/setup_fixed.sh": "completely\ndifferent\nfile\ncontent\n",
            "scripts/setup.sh": "alpha\nbeta\ngamma\ndelta\n",
            "pkg/__init__.py": "",
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"duplicate-file"})))
    got = {f.path: (f.data["canonical"], f.data["exact"]) for f in result.findings}
    assert got == {
        "scripts/deploy.sh": ("tools/deploy.sh", "true"),
        "scripts/deploy_enhanced.sh": ("tools/deploy.sh", "false"),
    }


def test_redundant_secret_sync(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            ".github/workflows/sync-secrets.yml": SYNC_WF,
            ".github/workflows/esc-sync.yml": SYNC_WF.replace("name: sync", "name: esc"),
            "scripts/sync_secrets.sh": SYNC_SH,
            ".github/workflows/test.yml": "name: test\non: push\njobs:\n  t:\n    - run: pytest\n",
            ".sophia-audit.yml": "canonical:\n  secret-sync: .github/workflows/esc-sync.yml\n",
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"redundant-workflow"})))
    assert sorted(f.path for f in result.findings) == [
        ".github/workflows/sync-secrets.yml",
        "scripts/sync_secrets.sh",
    ]
    assert {f.data["canonical"] for f in result.findings} == {".github/workflows/esc-sync.yml"}
    assert result.metrics.secret_sync_workflows == 3


@pytest.mark.parametrize(
    "write",
    [
        'run: pulumi esc secrets set org/prod OPENAI_API_KEY "${{ secrets.OPENAI_API_KEY }}"',
        'run: esc secret set org/prod k "${{ secrets.OPENAI_API_KEY }}"',
        """run: python -c 'import subprocess; subprocess.run(["pulumi", "esc", "secrets", "set",
          "org/prod", "k", "${{ secrets.OPENAI_API_KEY }}"])'""",
    ],
)
def test_esc_secrets_set_is_a_secret_sync(tmp_path: Path, write: str) -> None:
    extra = "name: x\non: push\njobs:\n  s:\n    runs-on: ubuntu-latest\n    steps:\n"
    root = repo(
        tmp_path,
        {
            ".github/workflows/sync_secrets_comprehensive.yml": SYNC_WF,
            ".github/workflows/extra-sync.yml": extra + "      - " + write + "\n",
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"redundant-workflow"})))
    assert [f.path for f in result.findings] == [".github/workflows/extra-sync.yml"]


def test_canonical_named_in_sophia_yaml(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            ".github/workflows/sync-secrets.yml": SYNC_WF,
            ".github/workflows/esc-sync.yml": SYNC_WF.replace("name: sync", "name: esc"),
            "sophia.yaml": "project: x\n# secrets are synced by .github/workflows/esc-sync.yml\n",
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"redundant-workflow"})))
    assert [f.path for f in result.findings] == [".github/workflows/sync-secrets.yml"]


def test_copies_in_stale_folders(tmp_path: Path) -> None:
    near = BODY.replace("line number 7 ", "line number seven ")
    root = repo(
        tmp_path,
        {
            "scripts/deploy.sh": BODY,
            "scripts/old/deploy.sh": near,
            "backup/scripts/deploy.sh": near.replace("line number 9 ", "line number nine "),
            "services/a/deploy.sh": near.replace("number 1 ", "no. 1 "),  # live: not compared
            "legacy/other.sh": "unrelated\n" * 5,
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"duplicate-file"})))
    got = {f.path: f.data["canonical"] for f in result.findings}
    assert got == {
        "scripts/old/deploy.sh": "scripts/deploy.sh",
        "backup/scripts/deploy.sh": "scripts/deploy.sh",
    }


def test_deploy_scripts_are_deploy_paths(tmp_path: Path) -> None:
    """Scripts that deploy by other methods are other deploy paths; helm in CI is GitOps."""
    helm = (
        "name: deploy\non: push\njobs:\n  d:\n    steps:\n      - run: helm upgrade --install a c\n"
    )
    root = repo(
        tmp_path,
        {
            ".github/workflows/deploy-k3s.yml": helm,
            "scripts/deploy.sh": "#!/bin/sh\ndocker compose -f a.yml up -d\n",
            "scripts/swarm.sh": "#!/bin/sh\ndocker stack deploy -c s.yml app\n",
            "scripts/release.sh": "#!/bin/sh\nmake images\n./deploy.sh deploy production\n",
            "scripts/lint.sh": "#!/bin/sh\nruff check .\n",
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"redundant-deploy-path"})))
    assert sorted(f.path for f in result.findings) == ["scripts/deploy.sh", "scripts/swarm.sh"]
    assert {f.data["canonical"] for f in result.findings} == {"deploy.sh"}
    methods = ("docker-compose", "docker-swarm", "kubernetes")
    assert result.metrics.deployment_methods == methods
    for path in ("scripts/deploy.sh", "scripts/swarm.sh"):
        (root / path).unlink()
    # `./deploy.sh deploy` is `sophia deploy`, Helm on K3s: one method, and no extra deploy path.
    after = scan(root, ScanOptions(rules=frozenset({"redundant-deploy-path"})))
    assert after.findings == []
    assert after.metrics.deployment_methods == ("kubernetes",)
