"""The one definition of "placeholder secret" for the whole product.

The config library refuses such values, the secrets pipeline refuses to sync them and the audit
scanner reports them, all through :func:`is_placeholder`, so the three never disagree. Each rule
is a named predicate; :func:`placeholder_reason` says which one matched without echoing the
value. The rules aim at values no real credential has (template markers, "changeme", "xxxx",
"your-api-key-here") and deliberately leave alone ordinary config words such as ``none``,
``test`` or ``token``, because the config library also serves non-secret settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Compared after lower-casing and dropping everything but letters and digits, so "Change-Me",
# "CHANGE_ME" and "change me" are one entry.
_PLACEHOLDER_WORDS = frozenset(
    {
        "changeme",
        "changeit",
        "changethis",
        "placeholder",
        "todo",
        "tbd",
        "tba",
        "fixme",
        "replaceme",
        "redacted",
        "undefined",
        "null",
        "notset",
        "unset",
        "secret",
        "password",
        "passw0rd",
        "dummy",
        "example",
        "sample",
        "xxx",
    }
)

_TEMPLATE_MARKERS = (
    re.compile(r"<[^<>]*>"),  # <token>, <your-api-key>
    re.compile(r"\$\{[^{}]*\}"),  # ${OPENAI_API_KEY}: an unresolved interpolation
    re.compile(r"\$\{\{.*\}\}"),  # ${{ secrets.X }}: a GitHub expression that was never evaluated
    re.compile(r"\{\{.*\}\}"),  # {{ .Values.token }}: an unrendered template
    re.compile(r"\[[A-Za-z0-9 _-]+\]"),  # [REDACTED], [api key]
    re.compile(r"%\([A-Za-z0-9_]+\)s"),  # %(token)s
    re.compile(r"\$[A-Z][A-Z0-9_]*"),  # $OPENAI_API_KEY: a shell variable that was not expanded
)
# "your-key", and behind a vendor prefix: "sk-ant-your-key", "xoxb-your-token", "ghp_your_token".
_YOUR_VALUE = re.compile(r"(?:[a-z0-9]{1,6}[-_]){0,2}your[-_ .]?[a-z0-9]")
_HERE_SUFFIX = re.compile(r"[-_ .](?:goes[-_ .])?here$")
_INSERT_PREFIX = re.compile(
    r"(?:insert|replace|enter|put|paste|add)[-_ ]?"
    r"(?:your|the|an?|real|actual|with|me|it|here|key|token|secret|password)(?:$|[-_ ])"
)
_FAKE_CREDENTIAL = re.compile(
    r"(?:dummy|fake|sample|example|test|demo|mock)[-_ ]?(?:api[-_ ]?)?"
    r"(?:key|token|secret|password|pass|value)$"
)
_MARKER_PREFIX = re.compile(r"(?:todo|tbd|fixme)\b|(?:dummy|placeholder|changeme)(?:[-_ .]|$)")
# A value that says what belongs there: "base64_encoded_openai_key", "b64-encoded-token".
_DESCRIPTION = re.compile(
    r"(?:base64|b64)[-_]?encoded(?:[-_][a-z0-9]+){0,6}"
    r"[-_](?:key|token|secret|password|passwd|passphrase|pat|credentials?)"
)
_X_RUN = re.compile(r"(?:[a-z0-9]{1,10}[-_])*x{3,}(?:[-_]x{3,})*")
_MASK_CHARS = frozenset("*•●#.·")


def _empty(value: str, folded: str) -> bool:
    return folded == ""


def _known_word(value: str, folded: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", folded) in _PLACEHOLDER_WORDS


def _template_marker(value: str, folded: str) -> bool:
    stripped = value.strip()
    return any(marker.fullmatch(stripped) for marker in _TEMPLATE_MARKERS)


def _your_value(value: str, folded: str) -> bool:
    return bool(_YOUR_VALUE.match(folded)) or bool(_HERE_SUFFIX.search(folded))


def _instruction(value: str, folded: str) -> bool:
    return bool(
        _INSERT_PREFIX.match(folded)
        or _FAKE_CREDENTIAL.fullmatch(folded)
        or _MARKER_PREFIX.match(folded)
        or _DESCRIPTION.fullmatch(value.strip())  # lower case only: OPENAI_API_KEY is a name
    )


def _masked_or_repeated(value: str, folded: str) -> bool:
    # "xxx", "XXXX-XXXX", "sk-xxxxxxxx", "****", "000000": no real credential looks like this.
    if _X_RUN.fullmatch(folded):
        return True
    if len(folded) >= 3 and set(folded) <= _MASK_CHARS:  # not ".*" (a regex)
        return True
    return len(folded) >= 6 and len(set(folded)) == 1


def _truncated(value: str, folded: str) -> bool:
    # "sk-abc…" or "xxx...": a value shown truncated somewhere and pasted back.
    return folded.endswith(("...", "…"))


_RULES: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("empty value", _empty),
    ("placeholder word", _known_word),
    ("unfilled template marker", _template_marker),
    ("'your …' / '… here' text", _your_value),
    ("instruction instead of a value", _instruction),
    ("masked or repeated characters", _masked_or_repeated),
    ("truncated value", _truncated),
)


def placeholder_reason(value: str) -> str | None:
    """Name the placeholder rule ``value`` matches, or None for a plausible real value."""
    folded = value.strip().casefold()
    for reason, rule in _RULES:
        if rule(value, folded):
            return reason
    return None


def is_placeholder(value: str) -> bool:
    """Return True for values like ``changeme``, ``your-api-key-here``, ``xxx…``, ``<token>``."""
    return placeholder_reason(value) is not None
