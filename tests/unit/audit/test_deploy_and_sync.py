"""Lessons from the hand-labelled corpus, pinned on minimal synthetic files.

redundant-workflow is GitHub → Pulumi ESC secret syncs only, found by what files do;
redundant-deploy-path is every deploy entry point besides ./deploy.sh and GitOps from CI.
"""

from __future__ import annotations

from pathlib import Path

from sophia_platform.audit import ScanOptions, scan
from tests.unit.audit.test_scanner import git_repo

WF_SECRETS = (
    "name: {name}\non: workflow_dispatch\njobs:\n  s:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - env:\n          ALL: ${{{{ toJSON(secrets) }}}}\n        run: {run}\n"
)
ARGV_SYNC = (
    "import os, subprocess\nfor key in ('OPENAI_API_KEY',):\n"
    "    subprocess.run([\n        'pulumi',\n        'env',\n        'set',\n"
    "        'org/prod', key, os.environ[key], '--secret'])\n"
)


STEPS = "jobs:\n  d:\n    steps:\n      - run: "


def findings(root: Path, rule: str) -> list[str]:
    result = scan(root, ScanOptions(rules=frozenset({rule})))
    return sorted(f.path for f in result.findings)


def test_sync_found_through_the_script_a_workflow_runs(tmp_path: Path) -> None:
    root = git_repo(
        tmp_path,
        {
            ".github/workflows/unified.yml": WF_SECRETS.format(
                name="u", run="python scripts/push_all.py"
            ),
            "scripts/push_all.py": ARGV_SYNC,  # argv list over several lines
            ".github/workflows/old-sync.yml": WF_SECRETS.format(
                name="o", run="esc env set org/prod k v --secret"
            ),
            "tools/gh_to_esc.sh": "gh secret list --json name\npulumi env set org/prod a b\n",
            # Not syncs: a deploy workflow writing ESC, a test dry-run, a local-file push.
            ".github/workflows/deploy-x.yml": WF_SECRETS.format(
                name="d", run="esc env set org/prod --file env.yaml"
            ),
            ".github/workflows/test-esc.yml": WF_SECRETS.format(
                name="t", run="python github_sync.py --dry-run"
            ),
            "scripts/local_push.sh": "esc env set org/prod --file local.yaml\n",
            ".github/workflows/sync_secrets_comprehensive.yml": WF_SECRETS.format(
                name="c", run="pulumi env set org/prod a b --secret"
            ),
        },
    )
    assert findings(root, "redundant-workflow") == [
        ".github/workflows/old-sync.yml",
        ".github/workflows/unified.yml",
        "scripts/push_all.py",
        "tools/gh_to_esc.sh",
    ]


def test_without_the_comprehensive_sync_the_working_workflow_is_kept(tmp_path: Path) -> None:
    root = git_repo(
        tmp_path,
        {
            ".github/workflows/a.yml": WF_SECRETS.format(
                name="a", run="python gone_sync.py --to pulumi"
            ),
            ".github/workflows/unified-sync.yml": WF_SECRETS.format(
                name="u", run="python scripts/push_all.py"
            ),
            "scripts/push_all.py": ARGV_SYNC,
            "sync.py": "# github-to-pulumi secrets\nimport os\nos.system('esc env set o/p a b')\n",
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"redundant-workflow"})))
    assert sorted(f.path for f in result.findings) == [".github/workflows/a.yml", "sync.py"]
    assert {f.data["canonical"] for f in result.findings} == {".github/workflows/unified-sync.yml"}
    assert result.metrics.secret_sync_workflows == 4


def test_deploy_paths(tmp_path: Path) -> None:
    root = git_repo(
        tmp_path,
        {
            "deploy.sh": "#!/bin/sh\nhelm upgrade --install sophia chart\n",  # the one path
            "scripts/deploy_lambda.py": "import requests\nrequests.post('https://x/launch')\n",
            "scripts/release.sh": "#!/bin/sh\n./deploy.sh deploy production\n",
            "ops/up.sh": "#!/bin/sh\nssh ubuntu@prod 'docker compose -f c.yml up -d'\n",
            "setup_server.sh": '#!/bin/sh\nssh u@prod "cd /opt/app && git pull && make"\n',
            "scripts/stack.py": "import subprocess as s\ns.run(['docker', 'stack', 'deploy'])\n",
            ".github/workflows/k8s.yml": STEPS + "kubectl apply -f k8s/\n",
            ".github/workflows/deploy-old.yml": STEPS + "railway up\n",
            # Not deploy paths:
            "scripts/dev/start.py": "import os\nos.system('docker compose up -d')\n",
            "scripts/diagnose.sh": "#!/bin/sh\nssh u@prod docker ps\n",
            "scripts/create-secrets.sh": "kubectl create secret generic a | kubectl apply -f -\n",
            "scripts/notes.sh": '#!/bin/sh\necho "then run docker compose up -d on the host"\n',
        },
    )
    assert findings(root, "redundant-deploy-path") == [
        ".github/workflows/deploy-old.yml",
        "ops/up.sh",
        "scripts/deploy_lambda.py",
        "scripts/stack.py",
        "setup_server.sh",
    ]


SSH_ACTION = (
    "name: {name}\non: push\njobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: appleboy/ssh-action@v1\n        with:\n          host: ${{{{ secrets.HOST }}}}\n"
    "          script: |\n            cd /srv/app\n            {script}\n"
)


def test_held_out_deploy_path_lessons(tmp_path: Path) -> None:
    """orchestra-main@09e01e4: ssh-action deploys, *_deploy names, workflows about deploys."""
    root = git_repo(
        tmp_path,
        {
            # A workflow not named deploy that pulls the code on the server over ssh.
            ".github/workflows/sync-server.yml": SSH_ACTION.format(
                name="sync", script="git pull origin main"
            ),
            ".github/workflows/restart.yml": SSH_ACTION.format(
                name="restart", script="docker compose up -d"
            ),
            # "deploy" as a word of a script's name, wherever it stands.
            "scripts/quick_deploy.py": "import subprocess\nsubprocess.run(['git', 'pull'])\n",
            "one-click-deploy.sh": "#!/bin/sh\nmake build\n",
            # Not deploy paths: an ssh-action that only reads logs, a workflow about deploys,
            # a deployment status script, a test named after deploys.
            ".github/workflows/logs.yml": SSH_ACTION.format(name="logs", script="tail -n 50 x"),
            ".github/workflows/ai-deployment-analysis.yml": STEPS + "curl https://x/logs\n",
            ".github/workflows/pre-deploy-checks.yml": STEPS + "pytest -q\n",
            "scripts/deployment_status.sh": "#!/bin/sh\ncurl -s https://x/health\n",
            "tests/test_deploy.py": "def test_x():\n    assert True\n",
        },
    )
    assert findings(root, "redundant-deploy-path") == [
        ".github/workflows/restart.yml",
        ".github/workflows/sync-server.yml",
        "one-click-deploy.sh",
        "scripts/quick_deploy.py",
    ]


def test_a_script_saying_it_moves_github_secrets_to_esc_is_a_sync_and_tests_are_not(
    tmp_path: Path,
) -> None:
    """sophia-main@366e5ff: a script that says what it moves; a test that names a sync."""
    root = git_repo(
        tmp_path,
        {
            ".github/workflows/sync_secrets_comprehensive.yml": WF_SECRETS.format(
                name="c", run="pulumi env set org/prod a b --secret"
            ),
            "scripts/org_to_esc.sh": (
                "# GitHub Organization Secrets → Pulumi ESC\n"
                'for s in A B; do pulumi env set org/prod "v.$s" "${!s}" --secret; done\n'
            ),
            "tools/push.py": "# Copies GitHub repo secrets into ESC\nos.system('esc env set o/p')",
            # Not syncs: a test of the sync, a script writing ESC from local values.
            "scripts/test_sync.py": (
                "# GitHub secrets to Pulumi ESC: check the script\n"
                "subprocess.run(['pulumi', 'env', 'set', 'o/p', 'a', 'b'])\n"
            ),
            "scripts/seed_local.sh": "# seed ESC from .env\npulumi env set org/dev a b --secret\n",
        },
    )
    assert findings(root, "redundant-workflow") == [
        "scripts/org_to_esc.sh",
        "tools/push.py",
    ]


def test_a_workflow_named_the_secret_sync_is_one_whatever_its_script_does_now(
    tmp_path: Path,
) -> None:
    """sophia-main@366e5ff: 'Unified Secret Sync' feeds every secret to a drifted script."""
    drifted = "import subprocess\nsubprocess.run(['pulumi', 'env', 'open', 'org/prod'])\n"
    wf = (
        "name: {name}\non: workflow_dispatch\njobs:\n  s:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: curl -fsSL https://get.pulumi.com | sh\n"
        "      - run: echo 'K=${{{{ secrets.OPENAI_API_KEY }}}}' > .env\n"
        "      - name: {step}\n        run: python scripts/{script}\n"
    )
    root = git_repo(
        tmp_path,
        {
            ".github/workflows/export.yml": WF_SECRETS.format(
                name="Export", run="pulumi env set org/prod a b --secret"
            ),
            ".github/workflows/unified.yml": wf.format(
                name="Unified Secret Sync", step="Run it", script="setup_once.py"
            ),
            ".github/workflows/step.yml": wf.format(
                name="Nightly", step="Sync secrets to ESC", script="setup_once.py"
            ),
            # Not a sync: a workflow syncing something else through the same script.
            ".github/workflows/docs.yml": wf.format(
                name="Sync docs", step="Sync the docs site", script="setup_once.py"
            ),
            "scripts/setup_once.py": drifted,
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"redundant-workflow"})))
    assert sorted(f.path for f in result.findings) == [
        ".github/workflows/step.yml",
        ".github/workflows/unified.yml",
    ]
    assert {f.data["canonical"] for f in result.findings} == {".github/workflows/export.yml"}


def test_a_command_string_in_a_plan_is_data_an_argv_list_runs(tmp_path: Path) -> None:
    """orchestra-main@09e01e4: a verifier's plan holds `"command": "vercel --prod"` for a person."""
    root = git_repo(
        tmp_path,
        {
            "verify.py": 'plan = [{\n    "action": "x",\n    "command": "vercel --prod",\n}]\n',
            "steps.py": (
                "import subprocess\nS = [{'command': ['docker', 'stack', 'deploy', 'app']}]\n"
                "for s in S:\n    subprocess.run(s['command'])\n"
            ),
        },
    )
    assert findings(root, "redundant-deploy-path") == ["steps.py"]


def test_deploy_text_a_python_script_holds_or_writes_is_not_run(tmp_path: Path) -> None:
    """A bootstrap text, a generated script: data the file holds or writes, unless it runs it."""
    bootstrap = 'BOOT = """\nset -e\ncd /srv/app\ndocker compose up -d\n"""\n'
    root = git_repo(
        tmp_path,
        {
            # Not run: a template held in a triple-quoted string, lines written into a script.
            "tools/make_boot.py": bootstrap + "print(len(BOOT))\n",
            "tools/gen_release.py": (
                "out = '#!/bin/sh\\n'\nfor p in ['a', 'b']:\n"
                "    out += f'npx vercel --prod --yes --name {p}\\n'\n"
                "with open('release.sh', 'w') as f:\n    f.write('vercel --prod\\n')\n"
                "    f.write(out)\n"
            ),
            # Run: the same text shipped to a host and run there by a shell.
            "tools/ship_boot.py": bootstrap
            + "import subprocess\nsubprocess.run(['ssh', 'host', 'bash', '/tmp/boot.sh'])\n",
            # Run: a plain command string passed to a shell.
            "tools/up.py": "import os\nos.system('docker compose up -d')\n",
        },
    )
    assert findings(root, "redundant-deploy-path") == ["tools/ship_boot.py", "tools/up.py"]


def test_an_unpaired_quote_does_not_hide_a_held_text(tmp_path: Path) -> None:
    """A damaged file: a lone triple quote before `x = \"\"\"` must not swap opener and closer."""
    text = (
        'A = \'\'\'\n\'\'\'\n    tail"""\n\ndef f():\n    """Doc."""\n'
        '    s = """\ndocker compose up -d\n"""\n    return s\n'
    )
    root = git_repo(tmp_path, {"scripts/gen.py": text})
    assert findings(root, "redundant-deploy-path") == []


def test_a_restart_action_is_not_a_deploy(tmp_path: Path) -> None:
    """A monitor's 'restart services' (compose down, then up) restarts what runs."""
    root = git_repo(
        tmp_path,
        {
            "scripts/watch.py": (
                "import subprocess\n\nclass Watch:\n    def restart_services(self):\n"
                "        subprocess.run(['docker', 'compose', 'down'])\n"
                "        subprocess.run(['docker', 'compose', 'up', '-d'])\n"
            ),
            "scripts/watch.sh": "restart() {\n  docker compose down\n  docker compose up -d\n}\n",
            # Starting the stack outside a restart function still is one.
            "scripts/start.sh": (
                "restart() {\n  docker compose restart\n}\nstart() {\n  docker compose up -d\n}\n"
            ),
            "scripts/boot.py": (
                "import subprocess\n\ndef restart_all():\n    pass\n\ndef start():\n"
                "    subprocess.run(['docker', 'compose', 'up', '-d'])\n"
            ),
        },
    )
    assert findings(root, "redundant-deploy-path") == ["scripts/boot.py", "scripts/start.sh"]


def test_a_deploy_workflow_whose_deploy_steps_only_echo_deploys_nothing(tmp_path: Path) -> None:
    """`- name: Deploy` running `echo` and commented-out examples is a placeholder."""
    head = "name: Deploy\non: push\njobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n"
    build = "      - name: Build\n        run: npm run build\n"
    root = git_repo(
        tmp_path,
        {
            ".github/workflows/deploy-echo.yml": head
            + build
            + "      - name: Deploy to production\n        run: |\n"
            '          # npx vercel --prod\n          echo "Deploying..."\n'
            "      - name: Notify deployment\n        run: |\n"
            "          if [ x = x ]; then echo ok; fi\n",
            # A deploy step using an action, or running a command, deploys.
            ".github/workflows/deploy-action.yml": head
            + build
            + "      - name: Deploy site\n        uses: some-org/pages-action@v2\n",
            ".github/workflows/deploy-run.yml": head + "      - name: Deploy\n        run: |\n"
            "          echo go\n          ./upload.sh dist\n",
            # Its deploy step echoes, but an earlier step writes ESC: it does its own steps.
            ".github/workflows/deploy-esc.yml": head
            + "      - name: Update ESC\n        run: esc env set org/prod --file env.yaml\n"
            + "      - name: Deploy\n        run: echo ready\n",
            # Named deploy with no step named so: kept flagged (it may deploy by any step).
            ".github/workflows/deploy-other.yml": head + build,
        },
    )
    assert findings(root, "redundant-deploy-path") == [
        ".github/workflows/deploy-action.yml",
        ".github/workflows/deploy-esc.yml",
        ".github/workflows/deploy-other.yml",
        ".github/workflows/deploy-run.yml",
    ]


def test_promoting_a_paas_deployment_through_its_api_is_a_deploy(tmp_path: Path) -> None:
    """Vercel's REST API: POST …/deployments/<id>/promote makes it the production one."""
    api = "import requests\nBASE = 'https://api.vercel.com'\n"
    root = git_repo(
        tmp_path,
        {
            "promote_site.py": api
            + "def go(d):\n    requests.post(f'{BASE}/v10/deployments/{d}/promote')\n",
            # Listing deployments is not one.
            "list_sites.py": api + "requests.get(f'{BASE}/v6/deployments')\n",
        },
    )
    assert findings(root, "redundant-deploy-path") == ["promote_site.py"]
