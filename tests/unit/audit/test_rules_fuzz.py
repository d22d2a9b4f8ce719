"""Every file rule survives arbitrary text and reports positions inside it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sophia_platform.audit.rules import CorpusRule, all_rules

from .helpers import source

PIECES = st.sampled_from(
    [
        "10.0.0.5", "1.2.3.4.5", "::", "fd00::1", "/24", ":", "=", '"', "'", "\n", " ", "\t",
        "API_KEY", "password", "token: ", "sk-", "ghp_", "AKIA", "changeme", "${X}", "docker ",
        "stack deploy", "services:\n", "  image: a\n", "-----BEGIN RSA PRIVATE KEY-----",
        "é", "\r\n", "# sophia: ignore[", "]", "v", "==", "xoxb-", "0.0.0.0", "255.255.255.0",
    ]
)  # fmt: skip
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=60).map("".join)
PATHS = st.sampled_from(
    ["a.py", "run.sh", "x.yaml", "docker-compose.yml", ".env", "d.md", "c.json", "poetry.lock"]
)


@settings(max_examples=300, deadline=None)
@given(path=PATHS, text=TEXT)
def test_rules_never_crash_and_positions_are_in_range(path: str, text: str) -> None:
    file = source(path, text)
    lines = text.split("\n")
    for rule in all_rules().values():
        if isinstance(rule, CorpusRule):
            rule.summarize(file)
            continue
        if not rule.wants(file):
            continue
        for finding in rule.check(file):
            assert 1 <= finding.line <= finding.end_line <= len(lines)
            assert finding.column >= 1 and finding.end_column >= 1
            if finding.line == finding.end_line:
                assert finding.column <= finding.end_column <= len(lines[finding.line - 1]) + 1
            assert finding.rule_id == rule.id and finding.fingerprint
