"""The documentation-health rules, one lesson per test (synthetic docs written for these tests)."""

from __future__ import annotations

from pathlib import Path

from sophia_platform.audit.model import Finding
from sophia_platform.audit.rules import CorpusRule, RepoContext, all_rules
from tests.unit.audit.helpers import run, source

SPEC = """\
project: demo
secrets:
  OPENAI_API_KEY: {github: OPENAI_API_KEY, esc: openai_api_key}
  GONG_ACCESS_KEY_SECRET: {github: GONG_SECRET_FROM_ORG}
  SLACK_BOT_TOKEN: {required: true}
"""


def judge(rule_id: str, files: dict[str, str], spec: str = "") -> list[Finding]:
    """Run a repository-wide rule over in-memory files, as the scanner does."""
    rule = all_rules()[rule_id]
    assert isinstance(rule, CorpusRule)
    summaries = []
    for path, text in files.items():
        summary = rule.summarize(source(path, text))
        if summary is not None:
            summaries.append((path, summary))
    return list(rule.judge(summaries, RepoContext(Path("."), spec_text=spec)))


def lines(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.path, f.line) for f in findings]


# --- docs-secret-name -------------------------------------------------------------------------


def test_an_undeclared_secret_name_gets_the_closest_manifest_name() -> None:
    doc = "# Setup\n\nSet `GONG_API_SECRET` and `$OPENAI_API_KEY`.\nThen SLACK_BOT_TOKEN.\n"
    found = judge("docs-secret-name", {"docs/setup.md": doc}, SPEC)
    assert lines(found) == [("docs/setup.md", 3)]
    assert found[0].data == {
        "names": "GONG_API_SECRET",
        "suggestions": "GONG_ACCESS_KEY_SECRET",
        "manifest": "sophia.yaml",
    }
    assert "did you mean GONG_ACCESS_KEY_SECRET?" in found[0].message
    assert (found[0].column, found[0].end_column) == (6, 21)


def test_github_and_esc_names_of_the_manifest_are_declared_names() -> None:
    doc = "GONG_SECRET_FROM_ORG in GitHub, OPENAI_API_KEY everywhere.\n"
    assert judge("docs-secret-name", {"README.md": doc}, SPEC) == []


def test_without_a_manifest_the_env_templates_declare_the_names() -> None:
    files = {
        ".env.example": "OPENAI_API_KEY=\n# ANTHROPIC_API_KEY=\n",
        "config/prod_template.env": "export REDIS_PASSWORD=\n",
        ".env": "PINECONE_API_KEY=x\n",  # a real env file declares nothing
        "docs/keys.md": "OPENAI_API_KEY, ANTHROPIC_API_KEY, REDIS_PASSWORD\nPINECONE_API_KEY\n",
    }
    found = judge("docs-secret-name", files)
    assert lines(found) == [("docs/keys.md", 2)]
    assert found[0].data["manifest"] == "the env templates"
    assert found[0].data["suggestions"] == ""  # no declared name shares a distinctive word


def test_with_nothing_to_compare_against_nothing_is_reported() -> None:
    assert judge("docs-secret-name", {"docs/a.md": "Set LINEAR_API_KEY.\n"}) == []


def test_names_that_are_not_one_particular_secret_are_left_alone() -> None:
    doc = "\n".join(
        [
            "GITHUB_TOKEN and GH_TOKEN and PULUMI_ACCESS_TOKEN are the platform's own.",
            "Generic: API_KEY, SECRET_KEY, BOT_TOKEN, ACCESS_TOKEN.",
            "Fill-ins: YOUR_API_KEY, MY_TOKEN, NEW_TOKEN, OLD_API_KEY2, BASE64_ENCODED_X_KEY.",
            "Brackets: <OPENAI_TEAM_KEY> and [JWT_TOKEN].",
            "Errors: MISSING_API_KEY, INVALID_TOKEN, API_KEY_INVALID.",
            "Settings: SNOWFLAKE_PRIVATE_KEY_PATH, SNOWFLAKE_AUTH_METHOD, TOKEN_TTL, VAULT_URL.",
            "Titles: SECRET_MANAGEMENT_GUIDE.md, see AUTOMATED_SECRET_SYNC_GUIDE.",
            "Not glued: xOPENAI_TEAM_KEY, OPENAI_TEAM_KEYs, primary_key, PrimaryKey.",
            "Generic with a qualifier's words only: YOUR_API_KEY_PROD, SECRET_NAME_PROD.",
        ]
    )
    assert judge("docs-secret-name", {"docs/n.md": doc + "\n"}, SPEC) == []


def test_real_names_are_flagged_one_finding_per_line() -> None:
    doc = (
        "NEW_RELIC_API_KEY and DB_PASSWORD and DB_PASSWORD again\n"
        "`secrets.LINEAR_API_KEY`, ${HUBSPOT_ACCESS_TOKEN}, GITHUB_PAT\n"
        "| TWILIO_AUTH_TOKEN | sms |\n"
    )
    found = judge("docs-secret-name", {"guide.rst": doc}, SPEC)
    assert lines(found) == [("guide.rst", 1), ("guide.rst", 2), ("guide.rst", 3)]
    assert found[0].data["names"] == "NEW_RELIC_API_KEY,DB_PASSWORD"
    assert found[1].data["names"] == "LINEAR_API_KEY,HUBSPOT_ACCESS_TOKEN,GITHUB_PAT"


def test_a_credential_word_followed_by_an_environment_or_owner_word_counts() -> None:
    doc = "Set API_KEY_PROD, FLY_TOKEN_PERSONAL and OPENAI_API_KEY_2.\nOPENAI_API_KEY_PROD too.\n"
    found = judge("docs-secret-name", {"docs/env.md": doc}, SPEC)
    assert lines(found) == [("docs/env.md", 1), ("docs/env.md", 2)]
    assert found[0].data["names"] == "API_KEY_PROD,FLY_TOKEN_PERSONAL,OPENAI_API_KEY_2"
    assert found[1].data["suggestions"] == "OPENAI_API_KEY"


def test_structured_config_templates_declare_names_too() -> None:
    files = {
        "config.example.yaml": "slack:\n  SLACK_BOT_TOKEN: your-token\n# NOTION_API_KEY: x\n",
        "secrets.template.json": '{"LINEAR_API_KEY": "", "HUBSPOT_ACCESS_TOKEN": ""}\n',
        "settings.toml.example": 'ZENDESK_API_TOKEN = ""\n',
        "config.yaml": "PINECONE_API_KEY: x\n",  # a real config file declares nothing
        "docs/keys.md": "SLACK_BOT_TOKEN NOTION_API_KEY LINEAR_API_KEY\nHUBSPOT_ACCESS_TOKEN\n"
        "ZENDESK_API_TOKEN\nPINECONE_API_KEY\n",
    }
    assert lines(judge("docs-secret-name", files)) == [("docs/keys.md", 4)]


def test_only_docs_are_read() -> None:
    files = {
        "app/settings.py": 'KEY = os.environ["LINEAR_API_KEY"]\n',
        "deploy.sh": "echo $LINEAR_API_KEY\n",
        "notes.txt": "LINEAR_API_KEY\n",
    }
    assert lines(judge("docs-secret-name", files, SPEC)) == [("notes.txt", 1)]


# --- docs-retired-deploy ----------------------------------------------------------------------

RETIRED_GUIDE = """\
# Deploying

```bash
docker stack deploy -c stack.yml sophia
docker-compose -f docker-compose.prod.yml up -d
ssh ubuntu@node "docker run -d sophia/api"
kubectl apply -f k8s/api.yaml
helm upgrade --install api charts/api
vercel --prod
flyctl deploy --app api-staging
railway up
kubectl replace -f k8s/api.yaml
```

Or in prose: run `docker compose up -d` on the server.
"""


def test_every_retired_method_is_a_finding() -> None:
    found = run("docs-retired-deploy", "docs/deploy.md", RETIRED_GUIDE)
    assert [f.line for f in found] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    assert [f.data["method"] for f in found] == [
        "docker-swarm",
        "docker-compose",
        "ssh-docker",
        "kubectl-helm",
        "kubectl-helm",
        "paas",
        "paas",
        "paas",
        "kubectl-helm",
        "docker-compose",
    ]
    assert found[1].data["environment"] == "production"
    assert found[6].data["environment"] == "staging"
    line = RETIRED_GUIDE.split("\n")[14]
    assert line[found[-1].column - 1 : found[-1].end_column - 1] == "docker compose up"


def test_the_one_path_and_operations_are_not_findings() -> None:
    doc = """\
# Deploy

    ./deploy.sh deploy production
    sophia deploy staging
    git push origin main
    kubectl rollout restart deployment/api
    kubectl get pods
    flyctl status --app api
    docker compose logs api
    docker-compose down
"""
    assert run("docs-retired-deploy", "docs/ok.md", doc) == []


def test_compose_in_a_local_development_section_is_a_laptop_stack() -> None:
    doc = """\
## Local development

### Start everything

    docker compose up -d

## Production

### Start everything

    docker compose up -d

Run `docker-compose up --build` locally to try it.
"""
    found = run("docs-retired-deploy", "docs/dev.md", doc)
    assert [(f.line, f.data["environment"]) for f in found] == [(11, "production")]


def test_secrets_fed_to_kubectl_are_the_secret_flows_debt() -> None:
    doc = """\
```
kubectl apply -f k8s/secrets/
kubectl create secret generic api-keys \\
  --from-literal=a=b --dry-run=client -o yaml | kubectl apply -f -
kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f -
```
"""
    assert [f.line for f in run("docs-retired-deploy", "docs/k.md", doc)] == [5]


def test_lines_that_reject_record_or_search_for_a_command_do_not_instruct_it() -> None:
    doc = "\n".join(
        [
            "We no longer run `docker stack deploy`.",
            "Use ./deploy.sh instead of `docker-compose up -d`.",
            "~~vercel --prod~~",
            "❌ `flyctl deploy` (removed)",
            "Legacy: `railway up`.",
            "grep -rn 'docker stack deploy' .",
            "pattern = r'kubectl apply -f'",
            "Deprecated: helm upgrade --install by hand.",
        ]
    )
    assert run("docs-retired-deploy", "docs/history.md", doc + "\n") == []


def test_only_docs_are_read_by_the_docs_rules() -> None:
    assert run("docs-retired-deploy", "scripts/deploy.sh", "docker stack deploy -c s.yml x\n") == []


# --- docs-conflicting-deploy ------------------------------------------------------------------


def test_two_methods_for_one_environment_conflict_across_docs() -> None:
    files = {
        "docs/a.md": "## Production\n\n    docker-compose -f docker-compose.yml up -d\n",
        "docs/b.md": "Ship it: `vercel --prod`\n",
        "docs/c.md": "# Staging\n\n    kubectl apply -f k8s/\n",  # another environment
    }
    found = judge("docs-conflicting-deploy", files)
    assert lines(found) == [("docs/a.md", 3), ("docs/b.md", 1)]
    assert found[0].data == {
        "environment": "production",
        "method": "docker-compose",
        "others": "paas:vercel",
    }
    assert "docs/b.md:1" in found[0].message


def test_the_one_path_is_never_the_conflicting_side() -> None:
    files = {
        "README.md": "Deploy with `./deploy.sh deploy production`.\n",
        "docs/old.md": "## Production deploy\n\n    helm upgrade --install api charts/api\n",
    }
    assert lines(judge("docs-conflicting-deploy", files)) == [("docs/old.md", 3)]


def test_one_method_repeated_or_local_development_is_no_conflict() -> None:
    files = {
        "docs/a.md": "    kubectl apply -f k8s/a.yaml\n    kubectl apply -f k8s/b.yaml\n",
        "docs/b.md": "## Local development\n\n    docker compose up\n",
        "docs/c.md": "Then `kubectl apply -f k8s/c.yaml`.\n",
    }
    assert judge("docs-conflicting-deploy", files) == []


def test_kubectl_and_helm_by_hand_are_two_methods() -> None:
    files = {
        "docs/a.md": "    kubectl apply -f k8s/\n",
        "docs/b.md": "    helm install api charts/api\n",
    }
    found = judge("docs-conflicting-deploy", files)
    assert [f.data["method"] for f in found] == ["kubectl-helm:kubectl", "kubectl-helm:helm"]


def test_the_suggestion_prefers_a_name_of_the_same_vendor() -> None:
    files = {
        ".env.example": "OPENAI_API_KEY=\nGONG_ACCESS_KEY=\nLINEAR_TOKEN=\n",
        "docs/a.md": "GONG_API_KEY\nLINEAR_API_KEY\nZZZ_UNRELATED_PASSWORD\n",
    }
    found = judge("docs-secret-name", files)
    assert [f.data["suggestions"] for f in found] == ["GONG_ACCESS_KEY", "LINEAR_TOKEN", ""]
    assert found[2].message == "secret name not in the env templates: ZZZ_UNRELATED_PASSWORD"
