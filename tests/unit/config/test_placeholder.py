import pytest

from sophia_platform.config import is_placeholder, placeholder_reason
from sophia_platform.config.placeholder import _RULES

RULE_NAMES = {name for name, _ in _RULES}

PLACEHOLDERS = [
    "",
    "   ",
    "changeme",
    "CHANGE_ME",
    "change-me",
    "placeholder",
    "PLACEHOLDER",
    "TODO",
    "todo: set later",
    "FIXME",
    "tbd",
    "your-api-key-here",
    "your_openai_api_key",
    "YOUR_TOKEN",
    "api-key-here",
    "put_token_here",
    "key-goes-here",
    "insert-your-key",
    "replace-with-real-token",
    "<token>",
    "<your-api-key>",
    "${OPENAI_API_KEY}",
    "${{ secrets.OPENAI_API_KEY }}",
    "{{ .Values.token }}",
    "[REDACTED]",
    "$OPENAI_API_KEY",
    "xxx",
    "XXXX",
    "xxxx-xxxx-xxxx",
    "sk-xxxxxxxxxxxx",
    "sk-proj-XXXXXXXX",
    "xxx…",
    "sk-...",
    "sk-abc123...",
    "****",
    "•••••",
    "000000",
    "aaaaaaaa",
    "dummy",
    "dummy-api-key",
    "fake_token",
    "test-key",
    "example",
    "sample-secret",
    "password",
    "secret",
    "undefined",
    "null",
    "redacted",
]

REAL_VALUES = [
    "sk-proj-3f9aKq7Lm2Xw8Rt1Zy4Bc6Nd",
    "xoxb-2837461-92837461-kJh3G5f6D7s8A9q0",
    "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ",
    "postgresql://sophia:9fK2mQ7x@postgres:5432/sophia",
    "redis://redis:6379/0",
    "8000",
    "true",
    "none",
    "test",
    "token",
    "production",
    "my-app",
    "us-east-1",
    "scoobyjava15",
    "1",
    "xylophone",
    "https://api.example-corp.io/v1",
    "COMPUTE_WH",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_are_caught(value: str) -> None:
    assert is_placeholder(value)
    # The reason is one of a fixed set of rule names, so it can never echo the value.
    assert placeholder_reason(value) in RULE_NAMES


@pytest.mark.parametrize("value", REAL_VALUES)
def test_real_values_pass(value: str) -> None:
    assert not is_placeholder(value), placeholder_reason(value)
    assert placeholder_reason(value) is None
