"""The one literal pass finds what ``in`` and ``pattern.finditer`` find, for every rule's pattern.

:mod:`sophia_platform.audit.literals` tries a pattern only where one of its start literals
(read from the pattern itself) occurs. These tests pin that this changes no result: for every
registered pattern, on texts built from pieces that make it match, half-match and fail, the
anchored search returns the same matches (spans and groups) as the plain one; literal tests and
line lists equal ``in`` and :func:`lines_containing`; the case tables hold over all of Unicode.
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sophia_platform.audit.rules  # noqa: F401 - registers every rule's literals and patterns
from sophia_platform.audit import assignments, deploy_signals, literals, scan
from sophia_platform.audit.source import SourceFile, lines_containing
from tests.fixtures.chaos_repo import generate

ANCHORED = sorted((p for p, starts in literals._starts.items() if starts), key=lambda p: p.pattern)
PIECES = st.sampled_from(
    [
        "docker", "docker stack deploy", "docker service create x", "docker-compose -f a up",
        "docker compose up -d", '["docker", "stack", "deploy"', "['docker','compose',", "'up'",
        "ssh root@h docker run", "sshpass -p x ssh h 'cd a && make'", "paramiko", "exec_command(",
        "kubectl apply -f k8s/", "k3s kubectl apply", "helm upgrade --install", '"helm", "install"',
        "railway up", "vercel --prod", "flyctl deploy", "render deploy", "./deploy.sh deploy",
        "sophia deploy", "deploy.sh  deploy", "pulumi env set", "esc env set a b", "pulumi esc env",
        '["pulumi", "env", "set"', "'esc', 'secrets', 'set'", "pulumi config set --secret x",
        "/api/esc/environments/", "update_environment_yaml", "EnvironmentSecret(",
        "gh secret list", "GH SECRET get", '"gh", "secret", "list"', "/actions/secrets",
        "public-key", "GitHub to ESC",
        "github-to-pulumi", "ALL_SECRETS", "toJSON(secrets)", "TOJSON( Secrets )", "python ",
        "python3 -m ", "bash ", "sh ", "./", "uv run ", "sync_secrets.py", "$(dirname $0)/",
        "--dry-run", " Api Key:", " TOKEN:", " Secret:", " password:", " ſecret:", " \u212aey:",
        "-----BEGIN RSA PRIVATE KEY-----", "-----END", "sk-", "sk-proj-", "A1b2" * 6, "_live_",
        "rk_live_", "ghp_", "github_pat_", "xoxb-", "AKIA", "ASIA", "pul-", "0123456789abcdef" * 3,
        "eyJ", "FlyV1 fm2_", "secret_", "sophia: ignore[x]", "--attachable", "com.docker.swarm.x",
        "node.role ==", "node.labels.gpu", "swarmMode", "dockerswarm_up", "--driver overlay",
        "-d=overlay", "getenv(", "environ.get(", "${{ secrets.X }}", " ", "\t", "\n", "\r\n", "=",
        ":", ",", '"', "'", "x", "_", "-", ".", "9", "é", "İ", "\U0001f680",
    ]
)  # fmt: skip
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=40).map("".join)


Found = list[tuple[tuple[int, int], tuple[str | None, ...]]]


def _matches(found: Iterable[re.Match[str]]) -> Found:
    return [(m.span(), m.groups()) for m in found]


def test_the_hot_patterns_are_anchored() -> None:
    """A pattern edited out of its start literals would silently be searched whole again."""
    for pattern in (
        deploy_signals.ESC_WRITE,
        deploy_signals.SCRIPT_GITHUB_SECRETS,
        deploy_signals._RUNS_SCRIPT,
        *(p for _, p in deploy_signals.DEPLOY_METHODS.values()),
    ):
        assert literals.start_literals(pattern), pattern.pattern


@pytest.mark.parametrize("pattern", ANCHORED, ids=[p.pattern[:40] for p in ANCHORED])
@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_anchored_search_equals_the_plain_search(pattern: re.Pattern[str], text: str) -> None:
    searched = literals.Indexed(text)
    assert _matches(searched.finditer(pattern)) == _matches(pattern.finditer(text))
    middle = len(text) // 3
    assert _matches(searched.finditer(pattern, middle, 2 * middle)) == _matches(
        pattern.finditer(text, middle, 2 * middle)
    )


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"\bdocker[ \t]+stack", ("docker\t", "docker ")),
        (r"(?<![\w])[sr]k_live_", ("rk_live_", "sk_live_")),
        (r"(?:pulumi\s+)?esc\s+env", ("esc", "pulumi")),
        (r"(?:ab|cd)?ef", ("ab", "cd", "ef")),
        (r"x\d+", None),  # one letter: everywhere
        (r"\d{3}abc", None),
        (r"(?i)\bgh\s", ("GH", "Gh", "gH", "gh")),
        (r"(?i)ok", ("OK", "Ok", "oK", "ok", "O\u212a", "o\u212a")),
    ],
)
def test_start_literals_of_small_patterns(pattern: str, starts: tuple[str, ...] | None) -> None:
    found = literals.start_literals(re.compile(pattern))
    assert (sorted(found) if found else None) == (sorted(starts) if starts else None)


def test_case_blind_letters_match_only_their_cases_and_the_listed_extras() -> None:
    """The fold table of :func:`literals._folds` is complete for this Python's ``re``."""
    for letter in string.ascii_lowercase:
        blind = re.compile("(?i)" + letter)
        matched = {chr(c) for c in range(sys.maxunicode + 1) if blind.fullmatch(chr(c))}
        assert matched == set(literals._folds(letter) or ()), letter


def test_lower_variants_are_every_string_lowering_to_the_word() -> None:
    lowers_to_ascii = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if len(chr(c).lower()) == 1 and chr(c).lower() in string.ascii_lowercase
    }
    assert lowers_to_ascii == set(string.ascii_letters) | {"\u212a"}
    assert set(literals.lower_variants("ok")) == {"ok", "Ok", "oK", "OK", "o\u212a", "O\u212a"}
    lengthening = [chr(c) for c in range(sys.maxunicode + 1) if len(chr(c).lower()) != 1]
    assert lengthening == ["\u0130"]  # assignments falls back to lowering such a text whole


WORDS = ("docker", "dock", "://", "ker\n", "xx")


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_literal_tests_and_lines_equal_in_and_lines_containing(text: str) -> None:
    file = SourceFile("a.sh", text, "shell", len(text), "")
    for word in WORDS:
        assert file.has(word) == (word in text)
    assert file.lines_with(*WORDS) == lines_containing(text, WORDS)


HINT_PIECES = st.sampled_from(
    ["API_KEY", "Token", "SeCrEt", "pass", "PWD", "credential", "_PAT", "\u212aEY", "İ", "ſ",
     " = ", ": ", '"v"', "'w'", "\n", "x", "=", "getenv(", ",", "é"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.one_of(HINT_PIECES, st.text(max_size=2)), max_size=30).map("".join))
def test_assignment_lines_equal_the_lowered_text_search(text: str) -> None:
    file = SourceFile("a.env", text, "env", len(text), "")
    assert assignments._lines_with_hints(file) == lines_containing(text.lower(), assignments._HINTS)


def test_a_literal_registered_after_a_pass_is_found_by_a_new_pass() -> None:
    searched = literals.Indexed("alpha beta-unregistered-literal gamma")
    assert not searched.has("zzz-never-there")
    assert searched.has("beta-unregistered-literal")  # registered now: the pass is redone
    assert searched.offsets("beta-unregistered-literal") == [6]
    late = re.compile(r"\bgamma-late\b|\bgam")
    assert [m.span() for m in searched.finditer(late)] == [(32, 35)]


LOWER_WORDS = ("secret", "kube", "_pat")


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.one_of(HINT_PIECES, st.text(max_size=2)), max_size=30).map("".join))
def test_lower_case_search_equals_searching_the_lowered_text(text: str) -> None:
    searched = literals.Indexed(text)
    lowered = text.lower()
    assert searched.has_lower(*LOWER_WORDS) == any(w in lowered for w in LOWER_WORDS)
    expected = sorted({m.start() for w in LOWER_WORDS for m in re.finditer(w, lowered)})
    assert searched.lower_offsets(LOWER_WORDS) == expected
    assert searched.lowers_evenly() == (len(lowered) == len(text))


def test_a_scan_finds_every_literal_registered_at_import(tmp_path: Path) -> None:
    """A literal first asked about mid-scan costs a second pass of the file it is asked on."""
    generate(tmp_path, files=300, seed=5, commit=False)
    versions = {name: g.version for name, g in literals._groups.items()}
    assert scan(tmp_path).findings
    assert {name: g.version for name, g in literals._groups.items()} == versions
