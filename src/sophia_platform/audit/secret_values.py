"""What a value is: a placeholder, a reference to elsewhere, or random enough to be a secret."""

from __future__ import annotations

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
