"""``SecretValue``: a string that will not show itself by accident.

str(), repr(), format() and f-strings all give a redaction marker; only :meth:`SecretValue.reveal`
returns the value. Two secrets compare equal when their values are equal (in constant time),
and hash by a digest, so they can live in sets and dict keys without the value ever being
printed. Pickling is refused so a secret cannot leak into a cache, queue or crash dump by
serialisation; copies are the same immutable object.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, NoReturn

REDACTED = "**********"


class SecretValue:
    """A secret (or config) string whose str/repr/format are redacted; ``.reveal()`` gives it."""

    __slots__ = ("_value", "key", "source")

    _value: str
    key: str | None
    source: str | None

    def __init__(self, value: str, *, key: str | None = None, source: str | None = None) -> None:
        if isinstance(value, SecretValue):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"SecretValue needs a str, got {type(value).__name__}")
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "source", source)

    def reveal(self) -> str:
        """Return the secret string itself; call it only where the value is really used."""
        return self._value

    def fingerprint(self) -> str:
        """Return a short sha256 prefix of the value, to report "changed" without showing it."""
        return hashlib.sha256(self._value.encode("utf-8")).hexdigest()[:12]

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        where = "".join(
            f", {name}={value!r}"
            for name, value in (("key", self.key), ("source", self.source))
            if value is not None
        )
        return f"SecretValue({REDACTED!r}{where})"

    def __format__(self, format_spec: str) -> str:
        # Any spec (":>20", ":s", "!r" handled by repr) still gives the marker, never the value.
        return REDACTED

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretValue):
            return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))
        # Comparing to a plain str is refused on purpose: equal objects must hash equal, and
        # hashing like a str would make the hash a stand-in for the value.
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(("SecretValue", hashlib.sha256(self._value.encode("utf-8")).digest()))

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("SecretValue is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("SecretValue is immutable")

    def __copy__(self) -> SecretValue:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SecretValue:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretValue cannot be pickled; pass .reveal() explicitly if you must")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("SecretValue cannot be pickled; pass .reveal() explicitly if you must")
