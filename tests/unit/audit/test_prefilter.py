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

from sophia_platform.audit.rules import committed_secret, hardcoded_ip, swarm_reference
from sophia_platform.audit.source import Span, finditer_in, lines_containing, lines_matching

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
@settings(max_examples=120, deadline=None)
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
