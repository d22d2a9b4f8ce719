"""What a value is: a placeholder, a reference to elsewhere, or random enough to be a secret."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter

from sophia_platform.config import is_placeholder as config_is_placeholder

_UNSET = frozenset({"null", "none", "~", "nil", "undefined"})


def is_placeholder(value: str) -> bool:
    """Return True for values that stand in for a secret: ``changeme``, ``<token>``, ``sk-...``.

    Delegates to :func:`sophia_platform.config.is_placeholder` (the product's one definition),
    after setting aside what the audit treats differently: empty or explicitly unset values
    and references such as ``${VAR}``, which point at a secret rather than fake one.
    """
    stripped = value.strip().strip("\"'`")
    if not stripped or stripped.lower() in _UNSET or is_reference(stripped):
        return False
    return config_is_placeholder(stripped)


_REFERENCE = re.compile(r"^(?:\$\{\{?.*\}\}?|\$[A-Za-z_]\w*|\{\{.*\}\}|%\(.*\)s|@Microsoft\..*)$")


def is_reference(value: str) -> bool:
    """True for values that point elsewhere: ``${VAR}``, ``$VAR``, ``${{ secrets.X }}``."""
    return _REFERENCE.match(value.strip()) is not None


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character (of the first 4 KiB: a long value's prefix tells enough)."""
    if not value:
        return 0.0
    value = value[:4096]
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4}){3,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def base64_text(value: str) -> str | None:
    """The text a base64 value encodes, when it encodes printable ASCII (Kubernetes ``data:``).

    A base64-encoded credential decodes to random bytes or to a token; one that decodes to
    ``dummy_value_for_testing`` is a placeholder in disguise, judged by what it says.
    """
    if not _BASE64.match(value):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
    if not raw or any(b < 0x20 or b > 0x7E for b in raw):
        return None
    return raw.decode("ascii")


_FIXTURE_WORDS = frozenset({"test", "testing", "mock", "fake", "fixture", "stub"})
_FIXTURE_WORD = re.compile(r"[A-Za-z]+")


def is_test_fixture(value: str) -> bool:
    """``test-key``, ``mock_token``, ``test_password``: a value made for tests, not a placeholder.

    ``dummy`` and ``placeholder`` values stay placeholders even when they mention tests.
    """
    found = {w.lower() for w in _FIXTURE_WORD.findall(value)}
    return bool(found & _FIXTURE_WORDS) and not found & {"dummy", "placeholder", "your"}
