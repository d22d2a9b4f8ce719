import copy
import json
import logging
import pickle

import pytest

from sophia_platform.config import REDACTED, SecretValue

CANARY = "canary-8f3b2a-do-not-print"


def test_str_repr_format_are_redacted() -> None:
    secret = SecretValue(CANARY, key="OPENAI_API_KEY", source="env")
    rendered = [
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>40}",
        "{}".format(secret),  # noqa: UP032 - each formatting path is tested on purpose
        "%s" % secret,  # noqa: UP031
        "%r" % secret,  # noqa: UP031
        str([secret]),
        str({"k": secret}),
        repr((secret,)),
    ]
    for text in rendered:
        assert CANARY not in text
        assert REDACTED in text
    assert "OPENAI_API_KEY" in repr(secret)
    assert "env" in repr(secret)


def test_reveal_returns_the_value() -> None:
    assert SecretValue(CANARY).reveal() == CANARY


def test_logging_does_not_reveal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("test").info("token is %s (%r)", SecretValue(CANARY), SecretValue(CANARY))
    assert CANARY not in caplog.text
    assert REDACTED in caplog.text


def test_equality_by_value_and_hash() -> None:
    a = SecretValue(CANARY, source="env")
    b = SecretValue(CANARY, source="esc")
    c = SecretValue("other")
    assert a == b
    assert a != c
    assert hash(a) == hash(b)
    assert len({a, b, c}) == 2
    # A secret never equals a plain string: equal objects must hash equal.
    assert a != CANARY
    assert CANARY not in str(hash(a))


def test_bool() -> None:
    assert SecretValue(CANARY)
    assert not SecretValue("")


def test_fingerprint_is_short_stable_and_not_the_value() -> None:
    fp = SecretValue(CANARY).fingerprint()
    assert fp == SecretValue(CANARY).fingerprint()
    assert fp != SecretValue("other").fingerprint()
    assert len(fp) == 12
    assert CANARY not in fp
    int(fp, 16)


def test_immutable_and_not_serialisable() -> None:
    secret = SecretValue(CANARY)
    with pytest.raises(AttributeError):
        secret._value = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        secret.key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        json.dumps({"k": secret})
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"k": secret})["k"] is secret


def test_wraps_secret_and_rejects_non_str() -> None:
    inner = SecretValue(CANARY)
    assert SecretValue(inner).reveal() == CANARY  # type: ignore[arg-type]
    with pytest.raises(TypeError) as info:
        SecretValue(1234)  # type: ignore[arg-type]
    assert "1234" not in str(info.value)


def test_exception_messages_do_not_reveal() -> None:
    secret = SecretValue(CANARY)
    err = ValueError(f"bad token {secret}")
    assert CANARY not in str(err)
    assert CANARY not in repr(err)
