"""The line prefilter finds exactly what the whole-text search finds, for every hot pattern.

Rules search only the lines that hold a literal (or a literal-led hint) every match of a
pattern contains (:func:`~sophia_platform.audit.source.finditer_in`). These tests pin that
the restriction changes no result: for each pattern a rule restricts, on texts built from
the pieces that make it match, half-match and fail, the restricted search returns the same
matches (spans and groups) as ``pattern.finditer`` over the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sophia_platform.audit import assignments, context, docs_signals
from sophia_platform.audit.rules import committed_secret, hardcoded_ip, swarm_reference
from sophia_platform.audit.secret_names import is_secret_key
from sophia_platform.audit.source import (
    SourceFile,
    Span,
    finditer_in,
    lines_containing,
    lines_matching,
)

PIECES = st.sampled_from(
    [
        "10.0.0.5", "1.2.3.4.5", "1.2", ".3", "::", "fd00::1", ":a:", "/24", ":", "=", '"',
        "'", "\n", " ", "\t", "\r\n", "é", "İ", "x", "_", "-", ".", "9",
        "docker", "docker stack deploy", "docker  service ls", " config rm", "com.docker.",
        "com.docker.swarm.node", "com.docker.stack.namespace", "dockerswarm_up", "swarmmode",
        "swarmMode", "node.role ==", "node.labels.gpu", "--attachable", "sk-", "sk-proj-",
        "A" * 24, "a1b2" * 6, "_live_", "rk_live_", "ghp_", "github_pat_", "xoxb-", "AKIA",
        "ASIA", "pul-", "0123456789abcdef" * 3, "Zz09" * 10,
    ]
)  # fmt: skip
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=50).map("".join)


Lines = Callable[[str], list[Span]]


def _by_needles(needles: tuple[str, ...]) -> Lines:
    return lambda text: lines_containing(text, needles)


def _by_hint(hint: re.Pattern[str]) -> Lines:
    return lambda text: lines_matching(text, hint)


# (name, pattern, how its lines are found) for every pattern a rule searches line by line.
RESTRICTED = [
    ("ipv4", hardcoded_ip._V4, _by_hint(hardcoded_ip._V4_HINT)),
    ("ipv6", hardcoded_ip._V6, _by_hint(hardcoded_ip._V6_HINT)),
    ("swarm-command", swarm_reference._COMMAND, _by_needles(("docker",))),
    ("swarm-marks", swarm_reference._MARKS, _by_needles(swarm_reference._MARK_NEEDLES)),
    *(
        (kind, pattern, _by_needles(triggers))
        for kind, triggers, pattern in committed_secret._KNOWN
    ),
]


def _matches(found: Iterable[re.Match[str]]) -> list[tuple[Span, tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in found]


@pytest.mark.parametrize(("name", "pattern", "lines"), RESTRICTED, ids=[r[0] for r in RESTRICTED])
@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_restricted_search_equals_whole_text_search(
    name: str, pattern: re.Pattern[str], lines: Lines, text: str
) -> None:
    spans = lines(text)
    assert _matches(finditer_in(pattern, text, spans)) == _matches(pattern.finditer(text))


def test_lines_are_whole_lines_found_once() -> None:
    text = "a docker docker\nplain\ndocker\n\nlast docker"
    spans = lines_containing(text, ("docker", "dock"))
    assert [text[s:e] for s, e in spans] == ["a docker docker", "docker", "last docker"]
    assert lines_matching("x\n1.2.3.4 and 5.6.7.8\n", hardcoded_ip._V4_HINT) == [(2, 21)]


def test_lookahead_at_the_end_of_a_line_sees_the_newline() -> None:
    # "[^=]" needs a character after "=": the newline in the whole text, so in the line too.
    pattern = re.compile(r"key=(?=[^=])")
    text = "key=\nnext"
    spans = lines_containing(text, ("key",))
    assert _matches(finditer_in(pattern, text, spans)) == _matches(pattern.finditer(text))
    assert _matches(pattern.finditer(text))  # the case is real: it does match


# The assignment pattern in its plain form: a lookbehind first, a greedy key.
PLAIN_ASSIGN = re.compile(
    assignments._ASSIGN.pattern.replace(
        r"""(?P<key>[A-Za-z_](?<![A-Za-z0-9_.\-].)[A-Za-z0-9_.\-]{0,120}+)""",
        r"""(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,120})""",
    )
)
ASSIGN_PIECES = st.sampled_from(
    [
        "API_KEY", "token", "a.b-c", "x" * 130, " ", "\t", ":", "=", "==", "=>", ":=", '"',
        "'", "${X}", "${{ secrets.A }}", ": str = ", "v1", ",", "#", "\n", "é",
    ]
)  # fmt: skip
ASSIGN_TEXT = st.lists(st.one_of(ASSIGN_PIECES, st.text(max_size=3)), max_size=40).map("".join)


def test_the_assignment_pattern_is_its_plain_form() -> None:
    assert PLAIN_ASSIGN.pattern != assignments._ASSIGN.pattern  # the rewrite is in place


@settings(max_examples=150, deadline=None)
@given(text=ASSIGN_TEXT)
def test_possessive_charset_led_assignment_pattern_finds_what_the_plain_one_finds(
    text: str,
) -> None:
    fast = [(m.span(), m.groups()) for m in assignments._ASSIGN.finditer(text)]
    assert fast == [(m.span(), m.groups()) for m in PLAIN_ASSIGN.finditer(text)]


def _plain_key_before(prefix: str) -> str:
    match = context._KEY_BEFORE.search(prefix[-100:])
    if match:
        return match.group(1)
    match = context._FLAG_BEFORE.search(prefix[-80:])
    return match.group(1) if match else ""


KEY_PIECES = st.sampled_from(
    [
        "HOST", " ", "=", ":", '"', "'", "`", "[", "(", "://", "http", "@", "user", "\n", "\r",
        "--host", "-h", "==", "=>", ":=", ",", "]", "x", "+", ";", "\t", "1.2", "/",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(prefix=st.lists(st.one_of(KEY_PIECES, st.text(max_size=2)), max_size=12).map("".join))
def test_key_before_with_its_last_character_check_equals_the_plain_search(prefix: str) -> None:
    assert context.key_before(prefix) == _plain_key_before(prefix)


NAME_PIECES = st.sampled_from(
    ["api", "Key", "KEY", "token", "Secret", "pass", "Password", "pwd", "credentials", "PAT",
     "private", "_", "-", ".", " ", "x", "Id", "name", "path", "\u212aey"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(name=st.lists(NAME_PIECES, min_size=1, max_size=6).map("".join))
def test_every_secret_like_name_holds_a_word_the_label_lines_are_found_by(name: str) -> None:
    if is_secret_key(name):
        assert any(w in name.lower() for w in committed_secret._SECRET_WORDS)


LABEL_PIECES = st.sampled_from(
    ["- ", "* ", "**", "Api Key", "Access Token", "Secret", "Some Label", ": ", ":", "`",
     "A1b2C3d4E5f6G7h8", "sk9Xq2Lm4Np7Rt1Vz", "\n", " ", "\t", "x", "İ", "é", "Db Password"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=st.lists(LABEL_PIECES, max_size=30).map("".join))
def test_label_lines_hold_every_label_match_with_a_secret_name(text: str) -> None:
    file = SourceFile("README.md", text, "docs", len(text), "")
    secret = [
        m.span()
        for m in committed_secret._LABELLED.finditer(text)
        if is_secret_key(m.group("key").replace(" ", "_"))
    ]
    found = [m.span() for m in committed_secret._labelled(file)]
    assert (
        set(secret) <= set(found) <= {m.span() for m in committed_secret._LABELLED.finditer(text)}
    )


DOC_PIECES = st.sampled_from(
    ["OPENAI", "_API", "_KEY", "_TOKEN", "_PAT", "_PASSWORD", "_URL", "_ID", "GITHUB", "YOUR",
     "_", "2", " ", "\n", "`", "$", "<", ">", "x", "a", "é", "SECRET", "_CREDENTIALS", "KEY",
     "_PROD", "_V2", "_STAGING"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(text=st.lists(DOC_PIECES, max_size=30).map("".join))
def test_doc_secret_names_are_found_on_the_lines_holding_a_name_end(text: str) -> None:
    file = SourceFile("docs/a.md", text, "docs", len(text), "")
    expected = [
        (m.group(1), m.start(1))
        for m in docs_signals.UPPER_NAME.finditer(text)
        if docs_signals.is_doc_secret_name(m.group(1))
        and not (
            text[m.start(1) - 1 : m.start(1)] in ("<", "[")
            and text[m.end(1) : m.end(1) + 1] in (">", "]")
        )
    ]
    assert [(m.name, m.start) for m in docs_signals.secret_mentions(file)] == expected


def _plain_assignments(text: str) -> list[assignments.Assignment]:
    """Every value group of both patterns on every line, read the plain way."""
    found = []
    for start, end in lines_containing(text.lower(), assignments._HINTS):
        for pattern in (assignments._ASSIGN, assignments._GETENV):
            stop = end
            if pattern is assignments._GETENV and text[start:end].rstrip().endswith("("):
                stop = assignments._line_end(text, assignments._line_end(text, end + 1) + 1)
            for match in pattern.finditer(text, start, stop):
                for group in ("dq", "sq", "bare"):
                    if group in pattern.groupindex and match.group(group) is not None:
                        value = match.group(group)
                        span = match.span(group)
                        found.append(
                            assignments.Assignment(match["key"], value, *span, group != "bare")
                        )
                        break
    return found


GETENV_PIECES = st.sampled_from(
    ["os.getenv(", "environ.get(", '"API_KEY"', "'TOKEN'", ", ", '"dflt"', "'v'", ")", "\n",
     "default=", "password", " = ", ": ", "x", "(", "İ", "\u212aEY"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.one_of(GETENV_PIECES, ASSIGN_PIECES), max_size=30).map("".join))
def test_assignments_equal_the_plain_reading(text: str) -> None:
    file = SourceFile("a.py", text, "python", len(text), "")
    got = assignments.assignments(text, assignments._lines_with_hints(file))
    plain = _plain_assignments(text)
    if not file.indexed.lowers_evenly():
        return  # the lowered text's lines (kept as they were); compared by the line test
    assert got == plain
