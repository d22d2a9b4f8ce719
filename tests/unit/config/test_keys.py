import pytest

from sophia_platform.config.keys import parse_key


@pytest.mark.parametrize(
    "raw", ["OPENAI_API_KEY", "openai_api_key", "openai-api-key", " Openai_Api_Key "]
)
def test_name_spellings_are_one_key(raw: str) -> None:
    key = parse_key(raw)
    assert key.name == "OPENAI_API_KEY"
    assert key.lower == "openai_api_key"
    assert key.path is None
    assert key.spellings == ("OPENAI_API_KEY", "openai_api_key")


@pytest.mark.parametrize(
    ("raw", "name"),
    [("snowflake.account", "SNOWFLAKE_ACCOUNT"), ("llm.keys[0]", "LLM_KEYS_0")],
)
def test_paths_keep_the_path(raw: str, name: str) -> None:
    key = parse_key(raw)
    assert key.path == raw
    assert key.name == name


@pytest.mark.parametrize("raw", ["", "  ", "1ABC", "a b", "a.", "x;rm", "ключ"])
def test_invalid_keys(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_key(raw)
