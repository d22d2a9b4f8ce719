from __future__ import annotations

import pytest

from .helpers import run

CANARY = "Qz7vK2mN9xR4tB8wL3pY6sD1"
PLACEHOLDER_POSITIVE = [
    (".env", "OPENAI_API_KEY=changeme\n", "OPENAI_API_KEY"),
    (".env.example", "GONG_ACCESS_KEY=your-api-key-here\n", "GONG_ACCESS_KEY"),
    ("config.yaml", "db_password: placeholder\n", "db_password"),
    ("config.yaml", "  slack_token: xxx\n", "slack_token"),
    ("settings.json", '{"apiKey": "<token>"}\n', "apiKey"),
    ("pyproject.toml", 'secret_key = "TODO"\n', "secret_key"),
    ("app/settings.py", 'OPENAI_API_KEY = "sk-..."\n', "OPENAI_API_KEY"),
    ("app/settings.py", 'API_KEY: str = "changeme"\n', "API_KEY"),
    ("app/settings.py", 'token = os.getenv("GITHUB_TOKEN", "your_token_here")\n', "GITHUB_TOKEN"),
    (
        "docker-compose.yml",
        "    environment:\n      - PULUMI_ACCESS_TOKEN=xxxxxxxx\n",
        "PULUMI_ACCESS_TOKEN",
    ),
    # Lessons from the hand-labelled corpus (synthetic fixtures, never repository content):
    ("k8s/secret.yaml", '  SMTP_PASSWORD: "base64_encoded_smtp_password"\n', "SMTP_PASSWORD"),
    # base64 of "dummy_value_for_tests": a Kubernetes data: value that decodes to a placeholder
    ("k8s/secret.yaml", "  MAIL_API_KEY: ZHVtbXlfdmFsdWVfZm9yX3Rlc3Rz\n", "MAIL_API_KEY"),
    ("k8s/issuer.yaml", "stringData:\n  token: <base64-encoded-dns-token>\n", "token"),
    (".env.example", "DEPLOY_PRIVATE_SSH_KEY=<YOUR_PRIVATE_SSH_KEY>\n", "DEPLOY_PRIVATE_SSH_KEY"),
    ("config/env.template", "MAIL_TOKEN=xoxb-your-mail-token\n", "MAIL_TOKEN"),
    (".env.example", "DB_URL=postgresql://app:your_db_password_here@db:5432/app\n", "url-password"),
    ("app/db.py", 'DSN = "postgresql://user:pass@localhost/app"\n', "url-password"),
    ("status.json", '{"value": "redis://default:[REDIS_PASSWORD]@cache:6379"}\n', "url-password"),
    ("app/cfg.ini", "smtp_password = changeme\n", "smtp_password"),
]
PLACEHOLDER_NEGATIVE = [
    (".env", "OPENAI_API_KEY=\n"),
    (".env", "OPENAI_API_KEY=${OPENAI_API_KEY}\n"),
    ("wf.yaml", "  token: ${{ secrets.GITHUB_TOKEN }}\n"),
    ("config.yaml", "key: OPENAI_API_KEY\n"),
    ("config.yaml", "primary_key: changeme\n"),
    ("config.yaml", "log_level: TODO\n"),
    ("README.md", "OPENAI_API_KEY=changeme\n"),
    ("app/settings.py", 'OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]\n'),
    ("config.yaml", "api_key: null\n"),
    ("config.yaml", "token_url: changeme\n"),
    ("app/config.py", "def get(key: str, default: str | SecretValue) -> SecretValue: ...\n"),
    ("app/config.py", "class Settings:\n    api_key: str = ...\n"),
    # Lessons from the hand-labelled corpus:
    ("app/db.py", "client = connect(host=h, password=password)\n"),  # a Python name
    ("app/db.py", 'dsn = f"postgresql://app:{password}@db/app"\n'),  # an interpolation
    ("app/kinds.py", 'PASSWORD = "password"\nAPI_KEY = "api_key"\n'),  # an enum of names
    ("app/map.py", '{"MAIL_API_KEY": "mail_api_key"}\n'),  # env name -> store key
    ("ops/map.json", '{"secret": "MAIL_API_KEY"}\n'),  # names the secret
    ("load/locust.py", 'payload = {"password": "test_password"}\n'),  # a test fixture
    ("app/tool.py", 'dummy_token = "dummy-token-for-a-manual-run"\n'),  # named as a fixture
    ("tests/test_cfg.py", 'cfg = {"required_secret": "secret"}\n'),  # test code
    ("app/patterns.py", '{"your_secret_here": "placeholder"}\n'),  # a pattern table
    ("wf.yml", """  run: sed -i 's/TOKEN = ".*"/TOKEN = "${{ secrets.T }}"/' a.py\n"""),
    ("k8s/secret.yaml", "  # postgresql://username:password@host:port/database\n"),
    ("k8s/secret.yaml", "  DB_NAME: ZHVtbXlfdmFsdWVfZm9yX3Rlc3Rz\n"),  # not a secret name
]


@pytest.mark.parametrize(("path", "text", "key"), PLACEHOLDER_POSITIVE)
def test_placeholder_positive(path: str, text: str, key: str) -> None:
    findings = run("placeholder-secret", path, text)
    assert [f.data["key"] for f in findings] == [key]


@pytest.mark.parametrize(("path", "text"), PLACEHOLDER_NEGATIVE)
def test_placeholder_negative(path: str, text: str) -> None:
    assert run("placeholder-secret", path, text) == []


SECRET_POSITIVE = [
    ("app/a.py", f'OPENAI_API_KEY = "sk-proj-{CANARY}"\n', "openai-key"),
    ("app/a.py", f'token = "ghp_{CANARY}abcdefghijkl"\n', "github-token"),
    (".env", f"GH_PAT=github_pat_11ABCDEFG0{CANARY}\n", "github-pat"),
    ("slack.yaml", f"webhook_token: xoxb-2048-{CANARY}\n", "slack-token"),
    ("aws.ini", "aws_access_key_id = AKIA4QZ7V2MN9XR4TB8W\n", "aws-access-key"),
    (
        "ci.sh",
        "export PULUMI_ACCESS_TOKEN=pul-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a\n",
        "pulumi-token",
    ),
    (
        "keys/id_rsa",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v"
        + CANARY
        + "abc\nQz7vK2mN9xR4tB8wL3pY6sD1Qz7vK2mN9xR4\n-----END RSA PRIVATE KEY-----\n",
        "private-key",
    ),
    ("config.yaml", f"db_password: {CANARY}\n", "high-entropy"),
    ("app/a.py", f'JWT_SECRET = "{CANARY}"\n', "high-entropy"),
    ("docker-compose.yml", "      - POSTGRES_PASSWORD=Qm7%xT2vR9pK\n", "high-entropy"),
    # Lessons from the hand-labelled corpus (synthetic values):
    ("docs/bot.md", f"Bot token: `1234567890:AA{CANARY}abcdefghi`\n", "telegram-bot-token"),
    ("status.json", f'{{"secret_value": "FlyV1 fm2_{CANARY}{CANARY}"}}\n', "fly-token"),
    (
        "app/gpu.py",
        'KEY = os.getenv("GPU_API_KEY", '
        f'"secret_acme_3c7e1a9f5b2d4086e8c1f7a3b9d5e2c4.{CANARY}")\n',
        "lambda-labs-key",
    ),
    ("app/a.py", f'refresh_secret = "eyJhbGciOiJIUzI1NiJ9.eyJ{CANARY}.{CANARY}"\n', "jwt"),
    (
        "report.json",
        '"url": "https://nb.example.org/?token=3c7e1a9f5b2d4086e8c1f7a3b9d5e2c4"\n',
        "high-entropy",
    ),
    ("docs/ops.md", f"- `DEPLOY_API_TOKEN`: {CANARY}\n", "high-entropy"),
    ("docs/ops.md", f"## Vendor\n- Access Key: {CANARY}\n", "high-entropy"),
    (
        "app/a.py",
        f'api_key=os.getenv(\n    "VENDOR_API_KEY",\n    "{CANARY}",\n)\n',
        "high-entropy",
    ),
    # A word prefix with a made-up tail is not readable: many runs of a letter or two.
    ("zap/.env", f"WEBHOOK_SECRET=acme_secret_key_{CANARY}\n", "high-entropy"),
    # `gh secret set NAME --body <value>` seeds GitHub with a value committed in the script
    (
        "scripts/seed.sh",
        f'gh secret set VENDOR_API_KEY --body "{CANARY}" --org a\n',
        "high-entropy",
    ),
    ("scripts/seed.sh", f"gh secret set DB_URL -b '{CANARY}'\n", "high-entropy"),
    (
        "scripts/seed.py",
        f'os.system("gh secret set HEX_SEED --body=3c7e1a9f5b2d4086e8c1f7a3b9d5e2c4{CANARY}")\n',
        "high-entropy",
    ),
]
SECRET_NEGATIVE = [
    ("app/a.py", 'OPENAI_API_KEY = "sk-xxxxxxxxxxxxxxxxxxxxxxxx"\n'),
    ("app/a.py", 'OPENAI_API_KEY = "sk-your-openai-key-goes-here"\n'),
    ("aws.ini", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"),
    ("app/a.py", 'OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]\n'),
    ("app/a.py", "API_KEY = settings.OPENAI_API_KEY_VALUE\n"),
    ("config.yaml", "db_password: ${DB_PASSWORD}\n"),
    ("config.yaml", "secret_name: sophia-api-secrets-2024\n"),
    ("app/a.py", 'TOKEN_URL = "https://auth.example.com/oauth2/token"\n'),
    ("docs/a.md", "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n"),
    ("app/task.py", 'name = "disk-usage-report-generator-2024"\n'),
    ("package-lock.json", f'"integrity": "sha512-{CANARY}"\n'),
    ("docker-compose.yml", "      - POSTGRES_PASSWORD=postgres\n"),
    ("app/a.py", 'password_hint = "Use8+Chars!"\n'),
    # A readable default (words, a year, punctuation) is weak, not a generated credential.
    ("docker-compose.yml", "      - POSTGRES_PASSWORD=Sophia2024!db\n"),
    ("docs/a.md", 'curl -H "X-Admin-Key: acme_admin_2024" http://localhost/\n'),
    # Long chains of words with a year (held-out orchestra-main): readable defaults too.
    ("zap/.env", "WEBHOOK_SECRET=webhook_secret_for_zapier_integration_2024\n"),
    ("docs/r.md", "SECRET_KEY=acme-secret-key-2024-very-secure-minimum-32-chars\n"),
    ("app/a.py", 'pw = os.getenv("NEO4J_PASSWORD", "neo4j_platform_secure_2024")\n'),
    # base64 of "dummy_value_for_tests" is a placeholder in disguise, not a credential
    ("k8s/secret.yaml", "  MAIL_API_KEY: ZHVtbXlfdmFsdWVfZm9yX3Rlc3Rz\n"),
    ("k8s/secret.yaml", '  MAIL_API_KEY: "base64_encoded_mail_api_key"\n'),
    ("app/db.py", "client = connect(host=h, password=db_password_from_vault)\n"),
    ("scripts/seed.sh", 'gh secret set VENDOR_API_KEY --body "$VENDOR_API_KEY"\n'),
    ("scripts/seed.sh", 'gh secret set VENDOR_API_KEY --body "your-vendor-key-here"\n'),
    ("scripts/seed.sh", 'gh secret set VENDOR_API_KEY -b "$(cat key.txt)"\n'),
    ("scripts/seed.sh", "gh secret set VENDOR_API_KEY < key.txt\n"),
    ("scripts/seed.sh", 'gh secret set APP_ID --body "3C7E1A9F-5B2D-4086-E8C1-F7A3B9D5E2C4"\n'),
]


# Test ids carry the index and path only: secret-looking values stay out of test names.
@pytest.mark.parametrize(
    ("path", "text", "kind"),
    SECRET_POSITIVE,
    ids=[f"{i}-{p}-{k}" for i, (p, _, k) in enumerate(SECRET_POSITIVE)],
)
def test_committed_secret_positive(path: str, text: str, kind: str) -> None:
    findings = run("committed-secret", path, text)
    assert [f.data["type"] for f in findings] == [kind]
    finding = findings[0]
    rendered = repr(finding) + str(finding.to_dict())
    assert CANARY not in rendered
    assert finding.data["secret_fingerprint"].startswith("sha256:")


@pytest.mark.parametrize(
    ("path", "text"), SECRET_NEGATIVE, ids=[f"{i}-{p}" for i, (p, _) in enumerate(SECRET_NEGATIVE)]
)
def test_committed_secret_negative(path: str, text: str) -> None:
    assert run("committed-secret", path, text) == []


@pytest.mark.parametrize(
    ("path", "text", "placeholders", "secrets"),
    [
        ("values.yaml", 'apiKey: ""\ntoken: "{{ .Values.token }}"\n', 0, 0),
        ("app.py", 'def login(user, password="changeme"):\n    pass\n', 1, 0),
        ("app.py", 'if password == "changeme":\n    deny()\n', 0, 0),
        ("schema.json", '{"password": {"type": "string"}}\n', 0, 0),
        ("app.py", f'SECRET_KEY = "django-insecure-{CANARY}"\n', 0, 1),
        ("k8s/secret.yaml", f"data:\n  password: {CANARY}Zz09\n", 0, 1),
        ("build.yaml", f"checksum: sha256:{CANARY}\n", 0, 0),
    ],
    ids=["helm-refs", "kwarg-default", "comparison", "json-schema", "django", "k8s", "checksum"],
)
def test_realistic_secret_files(path: str, text: str, placeholders: int, secrets: int) -> None:
    assert len(run("placeholder-secret", path, text)) == placeholders
    assert len(run("committed-secret", path, text)) == secrets
