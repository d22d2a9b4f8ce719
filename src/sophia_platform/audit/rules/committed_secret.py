"""``committed-secret``: a real-looking credential in the tree. The value is never reported.

Known token shapes (OpenAI ``sk-``, GitHub ``ghp_``/``github_pat_``, Slack ``xox[bap]-``, AWS
``AKIA``, Pulumi ``pul-``, private key blocks) and high-entropy values assigned to secret-like
names (``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``PASSWORD``) or seeded with ``gh secret set NAME
--body``. Findings carry a fingerprint of the value (``sha256:`` + 16 hex), which identifies it
without revealing it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from sophia_platform.audit.assignments import file_assignments, names_itself
from sophia_platform.audit.context import key_before
from sophia_platform.audit.literals import anchored, lower_needles, needles
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import Rule
from sophia_platform.audit.secret_names import SECRET_LAST_WORDS, is_secret_key, words
from sophia_platform.audit.secret_values import (
    base64_text,
    is_placeholder,
    is_reference,
    shannon_entropy,
)
from sophia_platform.audit.source import SourceFile, finditer_in, lines_at

# (type, literals of which one must occur for the pattern to be tried, pattern)
_KNOWN: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, triggers, re.compile(r"(?<![A-Za-z0-9_\-])" + pattern))
    for kind, triggers, pattern in (
        ("openai-key", ("sk-",), r"sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20,}"),
        ("stripe-key", ("_live_",), r"[sr]k_live_[A-Za-z0-9]{20,}"),
        ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"gh[pousr]_[A-Za-z0-9]{36,}"),
        ("github-pat", ("github_pat_",), r"github_pat_[A-Za-z0-9_]{22,}"),
        ("slack-token", ("xox",), r"xox[baprs]-[A-Za-z0-9\-]{10,}"),
        ("aws-access-key", ("AKIA", "ASIA"), r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
        ("pulumi-token", ("pul-",), r"pul-[0-9a-f]{40}(?![A-Za-z0-9])"),
        ("jwt", ("eyJ",), r"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,}"),
        ("telegram-bot-token", (":AA",), r"[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])"),
        ("fly-token", ("FlyV1 ",), r"FlyV1 fm[12]_[A-Za-z0-9+/=_,\-]{40,}"),
        ("lambda-labs-key", ("secret_",), r"secret_[a-z0-9\-]+_[0-9a-f]{32}\.[A-Za-z0-9]{16,}"),
    )
)
_TRIGGERS = needles(*(t for _, triggers, _ in _KNOWN for t in triggers))
needles("PRIVATE KEY", "://")
_PRIVATE_KEY = anchored(
    re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<body>[\s\S]{0,8000}?)-----END"
    )
)
# ?token=… / &api_key=… in a URL: the assignment pass reads the whole URL as one value.
_QUERY_SECRET = re.compile(
    r"[?&](?P<key>[A-Za-z_]{0,40}(?:token|key|secret))=(?P<value>[\w\-.~]{16,})"
)
# "- Access Key: <value>" in docs: a label of words (spaces between), then one bare token.
_LABELLED = re.compile(
    r"^[ \t]*(?:[-*][ \t]+)?\**(?P<key>[A-Za-z]+(?: [A-Za-z]+){1,4})\**:[ \t]+"
    r"`?(?P<value>[A-Za-z0-9+/=_\-]{16,200})`?[ \t]*$",
    re.MULTILINE,
)
_LABEL_HINT = anchored(re.compile(r"(?i) (?:key|token|secret|password):"))
# A label is reported only when it is a secret-like name (is_secret_key), and every such name
# holds one of these words in some case: only the lines holding one are read (a match of
# _LABELLED is one whole line).
_SECRET_WORDS = lower_needles(*sorted(SECRET_LAST_WORDS), "password", "secret")
# `gh secret set NAME --body "<value>"` (or `-b value`, `--body=value`): the value is committed
# in the script that seeds GitHub; every gh secret holds a secret, whatever its name says.
needles("secret set")
_GH_SECRET_SET = re.compile(
    r"\bgh[ \t]+secret[ \t]+set[ \t]+(?P<key>[A-Za-z_][A-Za-z0-9_]{0,100})\b[^\n]{0,200}?"
    r"""(?<![\w-])(?:--body|-b)(?:=|[ \t]+)(?:"(?P<dq>[^"\n]{1,500})"|'(?P<sq>[^'\n]{1,500})'|"""
    r"""(?P<bare>[^\s"'`;|&)]{1,500}))"""
)
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-.~!@#$%^&*]+$")
_DOTTED_NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")


def secret_fingerprint(value: str) -> str:
    """``sha256:`` + 16 hex digits of the value: identifies a secret without revealing it."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def looks_random(value: str) -> bool:
    """True for values with the character mix and entropy of a generated credential."""
    if len(value) < 16 or not _TOKEN_CHARS.match(value) or _DOTTED_NAME.match(value):
        return False
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        return len(value) >= 32 and shannon_entropy(value) >= 3.0
    if "example" in value.lower() or readable(value):
        return False
    return shannon_entropy(value) >= 3.5


_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase"})


def looks_like_password(key: str, value: str) -> bool:
    """Return True for a human-made password (short, mixed classes) under a password-like key."""
    if not _PASSWORD_WORDS.intersection(words(key)):
        return False
    if not 10 <= len(value) <= 64 or not _TOKEN_CHARS.match(value) or _DOTTED_NAME.match(value):
        return False
    classes = (
        any(c.islower() for c in value),
        any(c.isupper() for c in value),
        any(c.isdigit() for c in value),
        any(not c.isalnum() for c in value),
    )
    return sum(classes) >= 3 and shannon_entropy(value) >= 3.0 and not readable(value)


_RUNS = re.compile(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+")
_VOWELS = frozenset("aeiouyAEIOUY")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_CLUSTER = re.compile(r"[^aeiouyAEIOUY]{5,}")


def readable(value: str) -> bool:
    """``<Word>_<Word>_<year>!``, ``<word><year>!``: words, a year, punctuation — a human default.

    Such a value is a weak default password, not a generated credential; the policy leaves it
    out of ``committed-secret``. A made-up password (``Xk9#mP2$qLw7``) has many short runs; a
    long chain of words (``<word>_secret_for_<word>_<year>``,
    ``<word>-secret-key-<year>-very-secure-…``) has many runs too, but word-sized ones.
    """
    runs = _RUNS.findall(value)
    words = [w for r in runs if r.isalpha() for w in _WORDS.findall(r)]
    if not words or len(words[0]) < 3:
        return False
    if len(runs) > 7 and sum(map(len, words)) < 4 * len(words):
        return False  # many runs of a letter or two: made up, not words
    return all(_wordlike(w) for w in words)


def _wordlike(word: str) -> bool:
    """``admin``, ``Sophia``, ``AI``: one case pattern, vowels, no long consonant clusters."""
    if len(word) <= 3:
        return True
    if not (word.islower() or word.isupper() or word[1:].islower()) or len(word) > 14:
        return False
    vowels = sum(c in _VOWELS for c in word) / len(word)
    return 0.2 <= vowels <= 0.8 and not _CLUSTER.search(word)


def token_ok(value: str) -> bool:
    """True when a value with a known token prefix looks generated (not ``sk-xxxx``)."""
    if is_placeholder(value) or "example" in value.lower():
        return False
    return any(c.isdigit() for c in value) and shannon_entropy(value) >= 3.0


def _labelled(file: SourceFile) -> Iterator[re.Match[str]]:
    """The _LABELLED matches that can name a secret: those on lines holding a secret word."""
    text, searched = file.text, file.indexed
    if not searched.lowers_evenly():
        yield from _LABELLED.finditer(text)
        return
    for start, end in lines_at(text, searched.lower_offsets(_SECRET_WORDS)):
        match = _LABELLED.match(text, start, min(end + 1, len(text)))
        if match is not None:
            yield match


class CommittedSecretRule(Rule):
    """Credentials committed to git: anyone with read access has them, forever."""

    id = "committed-secret"
    order = 80
    tags = ("security", "secret")
    security_severity = "9.0"
    name = "CommittedSecret"
    title = "A real-looking credential is committed to the repository."
    help = (
        "Rotate the credential now (it is in the git history), remove it from the file, and "
        "provide it through the secrets manifest (`sophia.yaml` `secrets:`) and "
        "`sophia secrets sync`. The report shows a fingerprint of the value, never the value."
    )
    severity = Severity.ERROR
    in_archive = True

    def check(self, file: SourceFile) -> Iterator[Finding]:
        """Find credentials by shape and by entropy."""
        text = file.text
        taken: list[tuple[int, int]] = []
        for kind, triggers, pattern in _KNOWN if file.has(*_TRIGGERS) else ():
            # A token pattern starts with a lookbehind, so it is tried at every character:
            # only the lines holding its literal prefix are searched.
            if not file.has(*triggers):
                continue
            for match in finditer_in(pattern, text, file.lines_with(*triggers)):
                value = match.group()
                if not token_ok(value):
                    continue
                taken.append(match.span())
                low = max(0, match.start() - 200)  # bounded: no copy of a whole long line
                line_start = max(text.rfind("\n", low, match.start()) + 1, low)
                key = key_before(text[line_start : match.start()])
                yield self._hit(file, match.start(), match.end(), value, kind, key)
        if file.has("PRIVATE KEY"):
            for match in file.finditer(_PRIVATE_KEY):
                body = re.sub(r"\s+", "", match.group("body"))
                if len(body) < 40 or is_placeholder(body):
                    continue
                start = match.start()
                end = start + match.group().index("-----", 5) + 5
                taken.append((start, match.end()))
                yield self._hit(file, start, end, body, "private-key", "")
        if file.has("://"):
            for match in finditer_in(_QUERY_SECRET, text, file.lines_with("://")):
                value = match.group("value")
                if is_secret_key(match.group("key")) and looks_random(value):
                    taken.append(match.span("value"))
                    start, end = match.span("value")
                    yield self._hit(file, start, end, value, "high-entropy", match.group("key"))
        if file.search(_LABEL_HINT):
            for match in _labelled(file):
                key, value = match.group("key").replace(" ", "_"), match.group("value")
                if is_secret_key(key) and looks_random(value):
                    taken.append(match.span("value"))
                    start, end = match.span("value")
                    yield self._hit(file, start, end, value, "high-entropy", key)
        if file.has("secret set"):
            for match in finditer_in(_GH_SECRET_SET, text, file.lines_with("secret set")):
                group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
                value, (start, end) = match.group(group), match.span(group)
                if any(s <= start < e for s, e in taken) or is_reference(value):
                    continue  # a known token shape, already reported; or "$VALUE"
                key = match.group("key")
                if is_placeholder(value) or "$" in value or _UUID.fullmatch(value):
                    continue  # a placeholder, a shell expansion, an application's UUID
                if looks_random(value) or looks_like_password(key, value):
                    taken.append((start, end))
                    yield self._hit(file, start, end, value, "high-entropy", key)
        for item in file_assignments(file):
            if any(s <= item.start < e for s, e in taken) or not is_secret_key(item.key):
                continue
            if (file.kind == "python" and not item.quoted) or names_itself(item):
                continue  # a bare value in Python is a name or an expression, not a literal
            value = item.value
            decoded = base64_text(value)
            if decoded is not None and (is_placeholder(decoded) or not looks_random(decoded)):
                continue  # base64 of readable text: a disguised placeholder, not a credential
            if is_reference(value) or is_placeholder(value):
                continue
            if not looks_random(value) and not looks_like_password(item.key, value):
                continue
            taken.append((item.start, item.end))
            yield self._hit(file, item.start, item.end, value, "high-entropy", item.key)

    def _hit(
        self, file: SourceFile, start: int, end: int, value: str, kind: str, key: str
    ) -> Finding:
        secret_fp = secret_fingerprint(value)
        where = f" in {key}" if key else ""
        return self.at(
            file,
            start,
            end,
            f"{kind} committed{where} (fingerprint {secret_fp}); rotate it and remove it",
            basis=f"{kind}|{key}|{secret_fp}",
            data={"key": key, "type": kind, "secret_fingerprint": secret_fp},
        )
