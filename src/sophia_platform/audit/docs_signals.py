"""What documentation says: the secret names it mentions and the deploy commands it instructs.

Shared by the documentation-health rules (``docs-secret-name``, ``docs-retired-deploy``,
``docs-conflicting-deploy``). Docs are Markdown, reStructuredText, AsciiDoc and plain text
(file kind ``docs``). Every pattern is bounded, and each is tried only after a cheap literal
test on the file or the line, so a long line costs a few ``in`` tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from sophia_platform.audit import deploy_signals as sig
from sophia_platform.audit.literals import needles
from sophia_platform.audit.secret_names import SECRET_LAST_WORDS, is_secret_key
from sophia_platform.audit.source import SourceFile, finditer_in, lines_at

DOC_KINDS = frozenset({"docs"})
GROUP = "docs"  # the docs' literals are looked for in docs only (their group of the pass)

# --- secret names ----------------------------------------------------------------------------

# An UPPER_SNAKE name of two words or more, not glued to other name characters: OPENAI_API_KEY
# in `$OPENAI_API_KEY`, `secrets.OPENAI_API_KEY`, `| OPENAI_API_KEY |`. Groups start with "_",
# so a run is split one way only and a failed match gives back linearly.
UPPER_NAME = re.compile(r"(?<![A-Za-z0-9_])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+){1,12})(?![a-z0-9_])")

# Credentials every CI run or operator has without the manifest: GitHub's own token, the gh
# CLI's, Pulumi's access token (how the platform itself reaches ESC) and the Actions runtime's.
PLATFORM_SECRETS = frozenset(
    {
        "GITHUB_TOKEN", "GH_TOKEN", "PULUMI_ACCESS_TOKEN", "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    }
)  # fmt: skip
# Names that name no particular secret: `API_KEY` in a code sample is any key.
GENERIC_SECRETS = frozenset(
    {
        "API_KEY", "API_TOKEN", "API_SECRET", "SECRET_KEY", "ACCESS_KEY", "ACCESS_TOKEN",
        "AUTH_TOKEN", "AUTH_KEY", "PRIVATE_KEY", "CLIENT_SECRET", "BEARER_TOKEN", "APP_KEY",
        "APP_SECRET", "APP_TOKEN", "BOT_TOKEN", "SECRET_TOKEN", "OAUTH_TOKEN",
    }
)  # fmt: skip
# `YOUR_API_KEY`, `MY_TOKEN`: a value to fill in, not a name. `NEW_TOKEN`, `OLD_API_KEY`: a
# stand-in when every other word is generic (NEW_RELIC_API_KEY is a real name).
_PLACEHOLDER_FIRST = frozenset(
    {"your", "my", "example", "sample", "dummy", "fake", "placeholder", "base64", "encoded"}
)
_STANDIN_FIRST = frozenset({"new", "old", "some", "another", "other", "test", "temp"})
# Status and error codes: MISSING_API_KEY, INVALID_TOKEN, NO_API_KEY.
_STATUS_FIRST = frozenset({"missing", "invalid", "no", "expired", "bad", "wrong", "revoked"})
_GENERIC_WORDS = frozenset(
    {"api", "key", "token", "secret", "service", "oauth", "access", "auth", "password", "private",
     "client", "app", "bot", "bearer", "pat", "credential", "credentials"}
)  # fmt: skip


# Words that may follow the credential word: whom or where the secret is for (API_KEY_PROD,
# FLY_TOKEN_PERSONAL, OPENAI_API_KEY_2). The name is judged without them.
_QUALIFIERS = frozenset(
    {"prod", "production", "dev", "development", "staging", "stage", "test", "testing", "local",
     "live", "sandbox", "preview", "personal", "org", "team", "primary", "secondary", "backup"}
)  # fmt: skip
_VERSION = re.compile(r"v?[0-9]{1,3}")


def without_qualifiers(name: str) -> str:
    """``API_KEY_PROD`` → ``API_KEY``: the name with its trailing environment/owner words cut."""
    parts = name.split("_")
    while len(parts) > 2 and (
        parts[-1].lower() in _QUALIFIERS or _VERSION.fullmatch(parts[-1].lower())
    ):
        parts.pop()
    return "_".join(parts)


@lru_cache(maxsize=16384)
def is_doc_secret_name(name: str) -> bool:
    """True for an UPPER_SNAKE name in docs that names one particular secret."""
    last = name.rpartition("_")[2].lower()
    if last in SECRET_LAST_WORDS:
        base = name
    elif last in _QUALIFIERS or _VERSION.fullmatch(last):
        base = without_qualifiers(name)
        if base.rpartition("_")[2].lower() not in SECRET_LAST_WORDS:
            return False
    else:
        return False  # SECRET_MANAGEMENT_GUIDE is a doc's title, not a secret
    # Generic by its whole name: API_KEY is any key, API_KEY_PROD is the production one.
    if base in PLATFORM_SECRETS or name in GENERIC_SECRETS or not is_secret_key(base):
        return False
    parts = base.lower().split("_")  # words() of an UPPER_SNAKE name
    first, rest = parts[0], parts[1:]
    if first in _PLACEHOLDER_FIRST or first in _STATUS_FIRST:
        return False
    generic_rest = all(w in _GENERIC_WORDS or w.isdigit() or w.rstrip("0123456789") in
                       _GENERIC_WORDS for w in rest)  # fmt: skip
    return not (first in _STANDIN_FIRST and generic_rest)


@dataclass(frozen=True, slots=True)
class NameMention:
    """A secret name on one line of a doc (offsets into the file's text)."""

    name: str
    start: int
    end: int


# A doc secret name holds "_" and a secret word in upper case (is_doc_secret_name: at its end,
# or before qualifiers such as _PROD), and an UPPER_NAME match never spans lines: only the
# lines holding one of these are searched.
_NAME_ENDS = needles(*("_" + w.upper() for w in sorted(SECRET_LAST_WORDS)), group_name=GROUP)


def secret_mentions(file: SourceFile) -> Iterator[NameMention]:
    """The secret names a doc mentions, in order."""
    text = file.text
    lines = lines_at(text, file.indexed.offsets(*_NAME_ENDS, group_name=GROUP))
    for match in finditer_in(UPPER_NAME, text, lines):
        name = match.group(1)
        start, end = match.span(1)
        if text[start - 1 : start] in ("<", "[") and text[end : end + 1] in (">", "]"):
            continue  # <OPENAI_API_KEY>, [JWT_TOKEN]: a value to fill in
        if is_doc_secret_name(name):
            yield NameMention(name, match.start(1), match.end(1))


_TEMPLATE_NAME = re.compile(r"example|sample|template|dist|defaults?\b", re.IGNORECASE)
# A structured config template names itself so: config.example.yaml, secrets.template.json
# (not "defaults": an Ansible role's defaults/main.yml is not a template of secrets).
_CONFIG_TEMPLATE_NAME = re.compile(r"(?:^|[._\-])(?:example|sample|template)s?(?:[._\-]|$)", re.I)
_CONFIG_KINDS = frozenset({"yaml", "json", "toml", "ini"})
_ENV_KEY = re.compile(r"(?m)^[ \t]*#?[ \t]*(?:export[ \t]+)?([A-Z][A-Z0-9_]{1,100})[ \t]*=")
# An UPPER_SNAKE key of YAML/JSON/TOML/INI: at a line's start (after a list dash or a comment
# mark) or after `{` / `,` in inline JSON; quoted or not; then `:` or `=`.
_CONFIG_KEY = re.compile(
    r"""(?m)(?:^[ \t]*(?:#[ \t]*)?(?:-[ \t]+)?|[{,][ \t]*)["']?([A-Z][A-Z0-9_]{1,100})["']?"""
    r"""[ \t]*[:=]"""
)


def is_env_template(file: SourceFile) -> bool:
    """``.env.example``, ``secrets_template.env``, ``config.example.yaml``: a declaration."""
    # env.example / env.template (no leading dot) are env files to the secret rules, but not
    # among the templates this rule's definition names.
    name = file.name.lower()
    if name.startswith("env."):
        return False
    if file.kind in _CONFIG_KINDS:
        return _CONFIG_TEMPLATE_NAME.search(name) is not None
    return file.kind == "env" and _TEMPLATE_NAME.search(file.name) is not None


def template_names(text: str, kind: str = "env") -> frozenset[str]:
    """The names a template declares: ``NAME=``, ``export NAME=``, ``# NAME=``, or in a config.

    A structured config template (YAML, JSON, TOML, INI) declares its ``NAME:`` /
    ``"NAME":`` / ``NAME =`` keys.
    """
    return frozenset((_ENV_KEY if kind == "env" else _CONFIG_KEY).findall(text))


def manifest_names(spec_text: str) -> frozenset[str]:
    """Every name of the spec's secrets manifest: the keys, their GitHub names, ESC names."""
    if "secrets" not in spec_text:
        return frozenset()
    import yaml  # deferred: the pre-commit hook's import path stays light

    try:
        data = yaml.safe_load(spec_text)
    except yaml.YAMLError:
        return frozenset()
    secrets = data.get("secrets") if isinstance(data, dict) else None
    if not isinstance(secrets, dict):
        return frozenset()
    names: set[str] = set()
    for key, entry in secrets.items():
        names.add(str(key))
        if isinstance(entry, dict):
            for layer in ("github", "esc"):
                value = entry.get(layer)
                if isinstance(value, str):
                    names.add(re.sub(r"[^A-Za-z0-9]+", "_", value.rpartition("/")[2]).upper())
    return frozenset(names)


# --- deploy instructions ---------------------------------------------------------------------

_P = sig.DEPLOY_METHODS
Finder = Callable[[str], "tuple[int, int] | None"]


def _search(pattern: re.Pattern[str], needle: str = "") -> Finder:
    def find(line: str) -> tuple[int, int] | None:
        if needle and needle not in line:
            return None
        match = pattern.search(line)
        return match.span() if match else None

    return find


_COMPOSE = re.compile(r"\bdocker(?:-compose|[ \t]+compose)\b")
_COMPOSE_VERB = re.compile(r"[ \t](?:up|deploy)\b")
_COMMAND_STOP = re.compile(r"[|;&]")


def _compose_up(line: str) -> tuple[int, int] | None:
    """``docker compose … up|deploy`` within one command (linear: each stretch read once)."""
    if "compose" not in line:
        return None
    searched = 0
    for match in _COMPOSE.finditer(line):
        start = match.end()
        limit = start + 200
        stop = _COMMAND_STOP.search(line, start, limit)
        if stop:
            limit = stop.start()
        verb = _COMPOSE_VERB.search(line, max(start, searched - 1), limit)
        if verb:
            return match.start(), verb.end()
        searched = limit
    return None


_SSH_TARGET = re.compile(
    r"\bdocker(?:-compose|[ \t]+compose)?[ \t]+(?:run|up|stack[ \t]+deploy|service[ \t]+create|"
    r"load|pull|start|restart)\b"
)


def _ssh_docker(line: str) -> tuple[int, int] | None:
    """``ssh host … docker run|compose up|…``: a docker command up to 300 characters after ssh."""
    if "ssh" not in line or "docker" not in line:
        return None
    for match in _SSH_TARGET.finditer(line):
        at = line.rfind("ssh", max(0, match.start() - 300), match.start())
        if at != -1:
            return at, match.end()
    return None


# One method per instruction line, most specific first: compose run over ssh is compose.
_METHODS: tuple[tuple[str, Finder], ...] = (
    ("docker-swarm", _search(_P["docker-swarm"][1], "docker")),
    ("docker-compose", _compose_up),
    ("paas", _search(re.compile(_P["paas"][1].pattern + r"|\bgit[ \t]+push[ \t]+heroku\b"))),
    (
        "kubectl-helm",
        _search(
            re.compile(
                r"\b(?:helm[ \t]+(?:upgrade|install)|kubectl[ \t]+(?:apply|create[ \t]+-f|"
                r"replace|set[ \t]+image)|k3s[ \t]+kubectl[ \t]+apply)\b"
            )
        ),
    ),
    ("ssh-docker", _ssh_docker),
    ("one-path", _search(_P["one-path"][1], "deploy")),
)
# A line worth reading: one of the tools above is named on it.
_HINTS = needles(
    "docker", "kubectl", "helm", "railway", "vercel", "fly", "render", "heroku", "northflank",
    "deploy", group_name=GROUP,
)  # fmt: skip
# Fences and headings, each at a line start: a line holding a fence, or a newline followed
# by up to three blanks and "#" (the first line, with no newline before it, is always tried).
_STRUCTURE = re.compile(r"(?m)^[ \t]*(?:```|~~~)|^[ \t]{0,3}#{1,6}[ \t]")
_FENCES = needles("```", "~~~", group_name=GROUP)
_HEADINGS = needles(
    *("\n" + "".join(blanks) + "#" for n in range(4) for blanks in product(" \t", repeat=n)),
    group_name=GROUP,
)
RETIRED = frozenset({"docker-swarm", "docker-compose", "paas", "kubectl-helm", "ssh-docker"})
"""Methods the one path (``./deploy.sh`` / GitOps) replaced."""
SERVER_ONLY = frozenset({"docker-compose"})
"""Methods that are fine in a local-development section (a laptop stack)."""

# A line that rejects, records or searches for a command does not instruct it.
_NOT_AN_INSTRUCTION = re.compile(
    r"(?i)\b(?:don'?t|do[ \t]+not|never|no[ \t]+longer|instead[ \t]+of|deprecated|retired|"
    r"replaced|(?<!kubectl[ \t])replace|removed|legacy|obsolete|avoid|grep|rg|pattern|"
    r"regex)\b|❌|~~"
)
_SECRET_WORD = re.compile(r"(?i)\bsecrets?\b")
_ENV_WORD = re.compile(
    r"(?i)(?<![A-Za-z0-9/])(prod|production|staging|stage|dev|development|local|locally|"
    r"laptop)(?![A-Za-z0-9])"
)
_ENV_OF = {
    "prod": "production",
    "production": "production",
    "staging": "staging",
    "stage": "staging",
    "dev": "local",
    "development": "local",
    "local": "local",
    "locally": "local",
    "laptop": "local",
}
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.{1,300})$")
_PAAS_VENDOR = re.compile(r"\b(railway|vercel|fly|flyctl|northflank|render|heroku)\b")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One line of a doc that tells the reader to deploy by some method."""

    line: int
    method: str  # a key of deploy_signals.DEPLOY_METHODS (one-path: the canonical path)
    command: str  # the matched command text, e.g. `docker-compose -f x.yml up`
    environment: str  # production | staging | local | unspecified
    column: int
    end_column: int

    @property
    def variant(self) -> str:
        """The method with its tool: ``paas:vercel``, ``kubectl-helm:helm``."""
        if self.method == "paas":
            vendor = _PAAS_VENDOR.search(self.command)
            name = vendor.group(1) if vendor else "paas"
            return "paas:" + ("fly" if name == "flyctl" else name)
        if self.method == "kubectl-helm":
            return "kubectl-helm:" + ("helm" if "helm" in self.command else "kubectl")
        return self.method


def _environment(text: str) -> str | None:
    found = _ENV_WORD.search(text)
    return _ENV_OF[found.group(1).lower()] if found else None


def deploy_instructions(file: SourceFile) -> tuple[Instruction, ...]:
    """Every line of a doc that instructs a deploy (memoised on the file: two rules ask)."""
    cached = file.memo.get("docs.instructions")
    if cached is None:
        cached = file.memo["docs.instructions"] = tuple(_instructions(file))
    return cached


def _instructions(file: SourceFile) -> Iterator[Instruction]:
    """Read only the lines naming a tool, and the fences and headings that frame them."""
    text = file.text
    searched = file.indexed
    hints = sorted({file.position(o)[0] for o in searched.offsets(*_HINTS, group_name=GROUP)})
    if not hints:
        return
    starts = {text.rfind("\n", 0, o) + 1 for o in searched.offsets(*_FENCES, group_name=GROUP)}
    starts.update(o + 1 for o in searched.offsets(*_HEADINGS, group_name=GROUP))
    starts.add(0)
    frames = {file.position(start)[0] for start in starts if _STRUCTURE.match(text, start)}
    # The environment each open heading level names (a `## Production` section's `###`
    # subsections are production too, until a heading naming another one).
    heading_envs: list[str | None] = []
    in_code = False
    hinted = set(hints)
    for number in sorted(frames | hinted):
        line = file.line_text(number)
        if number in frames:
            if _FENCE.match(line):
                in_code = not in_code
                continue
            heading = None if in_code else _HEADING.match(line)
            if heading:
                level = len(line.lstrip(" \t")) - len(line.lstrip(" \t").lstrip("#"))
                heading_envs = heading_envs[: level - 1]
                heading_envs += [None] * (level - 1 - len(heading_envs))
                heading_envs.append(_environment(heading.group(1)))
        if number in hinted:
            method = _method(file, number, line)
            if method is not None:
                kind, start, end = method
                heading_env = next((e for e in reversed(heading_envs) if e), None)
                env = _environment(line) or heading_env or "unspecified"
                yield Instruction(number, kind, line[start:end], env, start + 1, end + 1)


def _continued(file: SourceFile, number: int) -> str:
    """The lines a command on line ``number`` continues (each ending in a backslash), at most 20."""
    parts: list[str] = []
    while number > 1 and len(parts) < 20:
        number -= 1
        previous = file.line_text(number)
        if not previous.rstrip().endswith("\\"):
            break
        parts.append(previous)
    return "\n".join(reversed(parts))


def _method(file: SourceFile, number: int, line: str) -> tuple[str, int, int] | None:
    for method, find in _METHODS:
        span = find(line)
        if span is None:
            continue
        if _NOT_AN_INSTRUCTION.search(line):
            return None
        if method == "kubectl-helm" and _SECRET_WORD.search(_continued(file, number) + line):
            return None  # hand-fed Kubernetes secrets: the secret flow's debt, not a deploy
        return method, span[0], span[1]
    return None
