from typing import Any

import pytest

from sophia_platform.config.esc_api import flatten
from sophia_platform.config.esc_ref import EscRef, base_url_from_backend


def v(value: Any, secret: bool = False, **extra: Any) -> dict[str, Any]:
    return {"value": value, "secret": secret, "trace": {}, **extra}


def test_flatten_nested_objects_arrays_and_scalars() -> None:
    properties = {
        "openai_api_key": v("sk-1", secret=True),
        "snowflake": v({"account": v("acme-x1"), "port": v(443), "tls": v(True)}),
        "hosts": v([v("a"), v({"name": v("b")})]),
        "environmentVariables": v({"OPENAI_API_KEY": v("sk-1", secret=True)}),
        "odd": v({"key.with dots": v("x")}),
        "ratio": v(0.5),
        "nothing": v(None),
        "pending": v(None, unknown=True),
    }
    assert flatten(properties) == {
        "openai_api_key": "sk-1",
        "snowflake.account": "acme-x1",
        "snowflake.port": "443",
        "snowflake.tls": "true",
        "hosts[0]": "a",
        "hosts[1].name": "b",
        "environmentVariables.OPENAI_API_KEY": "sk-1",
        'odd["key.with dots"]': "x",
        "ratio": "0.5",
    }


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        (
            "scoobyjava-org/default/sophia-ai-production",
            ("scoobyjava-org", "default", "sophia-ai-production"),
        ),
        ("acme/prod", ("acme", "default", "prod")),
    ],
)
def test_ref_parse(text: str, ref: tuple[str, str, str]) -> None:
    parsed = EscRef.parse(text)
    assert (parsed.org, parsed.project, parsed.env) == ref


@pytest.mark.parametrize("text", ["", "one", "a/b/c/d", "a//c", "a/b c/d"])
def test_ref_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        EscRef.parse(text)


def test_base_url() -> None:
    assert base_url_from_backend(None) == "https://api.pulumi.com/api/esc"
    assert base_url_from_backend("https://pulumi.acme.io/") == "https://pulumi.acme.io/api/esc"
    assert base_url_from_backend("http://127.0.0.1:9/api/esc") == "http://127.0.0.1:9/api/esc"
