from __future__ import annotations

import pytest

from sophia_platform.cleanup.compose.interpolate import interpolate, parse_dotenv

VARS = {"SET": "value", "EMPTY": "", "TAG": "1.2"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("$SET", "value"),
        ("${SET}", "value"),
        ("a-${SET}-b", "a-value-b"),
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),
        ("${UNSET-fallback}", "fallback"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET:-${TAG}}", "1.2"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("$$SET", "$SET"),
        ("price: 5$", "price: 5$"),
        ("img:${TAG:-latest}", "img:1.2"),
    ],
)
def test_interpolation_forms(text: str, expected: str) -> None:
    assert interpolate(text, VARS).text == expected


def test_missing_and_required_variables_are_reported() -> None:
    result = interpolate("${UNSET} ${NEED:?set NEED}", VARS)
    assert result.missing == ["UNSET"]
    assert result.errors == ["required variable NEED is not set: set NEED"]
    assert result.referenced == ["UNSET", "NEED"]


def test_dotenv_parsing() -> None:
    text = "# comment\nexport A=1\nB='two words'\nC=\"line\\nbreak\"\nD=x # trailing\nbad line\n"
    assert parse_dotenv(text) == {"A": "1", "B": "two words", "C": "line\nbreak", "D": "x"}
