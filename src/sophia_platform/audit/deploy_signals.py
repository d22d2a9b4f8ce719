"""What a workflow or script does, read from its text: deploy methods and secret-sync steps.

Shared by ``redundant-deploy-path`` (deploys by a method other than the one path) and
``redundant-workflow`` (syncs GitHub secrets into Pulumi ESC). Every pattern is bounded (no
unanchored repetition over long runs), and each is tried only when a cheap substring test
passes, so a minified line costs one ``in`` per pattern.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from itertools import filterfalse
from pathlib import PurePosixPath

from sophia_platform.audit.literals import anchored, indexed, lower_needles, needles

# The literals of these signals are looked for in workflows and scripts only (their group).
GROUP = "deploy"


def _signal(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return anchored(pattern, GROUP)


WORKFLOW_DIR = ".github/workflows/"
SCRIPT_DIRS = (
    "scripts/",
    "script/",
    "bin/",
    "tools/",
    "deploy/",
    "deployment/",
    "deployments/",
    "ops/",
    "infra/",
    "infrastructure/",
    ".github/",
)

# A quoted argv element: "docker", 'stack' (the separator may span lines in a list).
_Q = r"""["']"""
_SEP = r"""["']\s*,\s*["']"""


def _argv(*words: str) -> str:
    return _Q + _SEP.join(words) + _Q


# Deploy methods. Each: (substrings one of which every match contains, pattern); the pattern
# runs only on a text holding one of them.
DEPLOY_METHODS: dict[str, tuple[tuple[str, ...], re.Pattern[str]]] = {
    "docker-swarm": (
        ("docker",),
        _signal(
            re.compile(
                r"\bdocker\s+(?:stack\s+deploy|service\s+(?:create|update))\b|"
                + _argv("docker", "stack", "deploy")
                + "|"
                + _argv("docker", "service", "(?:create|update)")
            )
        ),
    ),
    "docker-compose": (
        ("compose",),
        _signal(
            re.compile(
                r"\bdocker(?:-compose|\s+compose)\b[^\n|;&]{0,200}?\sup\b|"
                r"""["']docker-compose["'][^\]\n]{0,200}?["']up["']|"""
                + _argv("docker", "compose")
                + r"""[^\]\n]{0,200}?["']up["']"""
            )
        ),
    ),
    "ssh-docker": (
        ("ssh",),
        _signal(
            re.compile(
                r"""\b(?:ssh|sshpass)\b[^\n]{0,300}?\bdocker(?:-compose|\s+compose)?\s+"""
                r"""(?:run|up|stack\s+deploy|service\s+create|load|pull|start|restart)\b|"""
                r"""\b(?:ssh|sshpass)\b[^\n]{0,300}?(?:\bgit\s+(?:clone|pull)\b[^\n]{0,200}?)?"""
                r"""&&\s*(?:sudo\s+)?make\b|"""
                r"""paramiko[\s\S]{0,2000}?exec_command\([^)\n]{0,200}?docker|"""
                # A workflow step running its script on a server over ssh (appleboy/ssh-action):
                # pulling the code there, or starting containers or services, is an ssh deploy.
                r"""\bssh-action@[\s\S]{0,3000}?\b(?:git\s+pull|docker(?:-compose)?\s+"""
                r"""(?:run|up|compose\s+up|restart|start)|systemctl\s+(?:restart|start)|"""
                r"""pm2\s+(?:start|restart|reload)|supervisorctl\s+(?:start|restart))\b"""
            )
        ),
    ),
    "kubectl-helm": (
        ("helm", "kubectl"),
        _signal(
            re.compile(
                r"\b(?:helm\s+(?:upgrade|install)|kubectl\s+(?:apply|create\s+-f|replace|set\s+image|"
                r"rollout\s+restart)|k3s\s+kubectl\s+apply)\b|"
                + _argv("helm", "(?:upgrade|install)")
                + "|"
                + _argv("kubectl", "(?:apply|replace)")
            )
        ),
    ),
    "paas": (
        ("railway", "vercel", "fly", "northflank", "render", "heroku"),
        _signal(
            re.compile(
                r"\b(?:railway\s+up|vercel\s+(?:deploy|--prod)|fly(?:ctl)?\s+deploy|"
                r"northflank\s+(?:create|update|deploy)|render\s+deploy|heroku\s+container:release)\b|"
                # Vercel's REST API: promoting a deployment to production is a deploy
                r"/deployments/[^\s\"'/]{1,120}/promote\b"
            )
        ),
    ),
    "one-path": (
        ("deploy",),
        _signal(re.compile(r"(?:\bsophia|(?<![\w/.-])\./deploy\.sh|\bdeploy\.sh)\s+deploy\b")),
    ),
}
needles(*(needle for found, _ in DEPLOY_METHODS.values() for needle in found), group_name=GROUP)
CANONICAL_METHODS = frozenset({"one-path"})
"""``./deploy.sh`` / ``sophia deploy``: the one path (helm/kubectl in CI are GitOps from CI)."""
CI_METHODS = frozenset({"one-path", "kubectl-helm"})

_COMMENT_OR_PRINT = re.compile(
    r"""^\s*(?:#|//|echo\b|printf\b|print\(|logger\.\w+\(|logging\.\w+\(|log\s|-\s*name:|"""
    r"""name:|description:|"""
    # A command string held as data for a person: {"action": …, "command": "vercel --prod"} in
    # a plan or report (an argv list under such a key is still a command that runs)
    r"""["'](?:command|hint|example|suggestion|next_step|instructions?)["']\s*:\s*f?["'])"""
)


_LINE_LEADS = (
    "#", "//", "echo", "print", "log", "name:", "description:",
    "command", "hint", "example", "suggestion", "next_step", "instruction",
)  # fmt: skip


@lru_cache(maxsize=8)  # both workflow rules ask for the same file's code text
def code_text(text: str) -> str:
    """The text without comment lines and printed/logged instruction lines."""
    if not any(lead in text for lead in _LINE_LEADS):
        return text  # no line can match: every _COMMENT_OR_PRINT match holds one of these
    return "\n".join(filterfalse(_COMMENT_OR_PRINT.match, text.split("\n")))  # no frame per line


_METHOD_WORDS = lower_needles(
    "docker", "helm", "kube", "deploy", "railway", "vercel", "ssh", "fly", group_name=GROUP
)
lower_needles("secret", group_name=GROUP)


@lru_cache(maxsize=8)  # both workflow rules ask for the same file's methods
def deploy_methods(text: str, *, python: bool = False) -> tuple[str, ...]:
    """The deploy methods used in ``text`` (comments and echoed instructions ignored).

    A command inside a restart function (``def restart_services``, ``restart() {``) restarts
    what runs, it deploys nothing. In Python (``python=True``) a command inside a triple-quoted
    string or a line appended to a text (``script += "…"``, ``f.write("…")``) is text the file
    holds or writes out, not what it runs, unless the file runs a shell on such a script
    (``["ssh", host, "bash", "x.sh"]``, ``shell=True``, ``os.system``, ``exec_command``).
    """
    if not indexed(text).has_lower(*_METHOD_WORDS, group_name=GROUP):
        return ()
    code = code_text(text)
    searched = indexed(code)
    held: frozenset[int] | None = None if python else frozenset()  # found at the first hit
    found = []
    for method, (words, pattern) in DEPLOY_METHODS.items():
        if not searched.has(*words, group_name=GROUP):
            continue
        hits = []
        for m in searched.finditer(pattern):
            if held is None:
                held = frozenset() if _RUNS_SHELL.search(code) else _written_lines(text, code)
            if code.count("\n", 0, m.start()) in held or _in_restart(code, m.start(), python):
                continue
            hits.append(m)
        if method == "kubectl-helm":
            # `kubectl create secret … | kubectl apply -f -` hand-feeds secrets, not a deploy.
            hits = [h for h in hits if not _SECRET_ONLY.search(_line_at(code, h.start()))]
        if hits:
            found.append(method)
    return tuple(found)


_SECRET_ONLY = re.compile(r"\bsecrets?\b")
_TRIPLE_QUOTE = re.compile(r"\"\"\"|'''")
# A line adding to a text being built or written: `script += f"…"`, `f.write("…")`.
_WRITTEN_LINE = re.compile(
    r"""^[ \t]*(?:[\w.]{1,80}(?:\[[^\]\n]{0,80}\])?[ \t]*\+=|[\w.]{1,80}\.write(?:lines)?\()"""
    r"""[ \t]*[rbf]{0,2}["']""",
    re.MULTILINE,
)
# The file runs a shell on a script or a command text: then the text it holds may be run.
_RUNS_SHELL = re.compile(
    r"""["'](?:ba|z)?sh["']\s*,|\bshell\s*=\s*True\b|\bos\.(?:system|popen)\(|"""
    r"""\bexec_command\("""
)
# The function a line is in: `def restart_services(` (Python), `restart() {`,
# `function restart {` (shell).
_PY_FUNCTION = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w{1,100})", re.MULTILINE)
_SH_FUNCTION = re.compile(
    r"^[ \t]*(?:function[ \t]+([\w-]{1,100})|([\w-]{1,100})[ \t]*\(\)[ \t]*(?:\{|$))",
    re.MULTILINE,
)


_NEWLINE = re.compile("\n")
_OPENS = re.compile(r"(?:[=(,]|\breturn)[ \t]*[rbfRBF]{0,2}$")


def _written_spans(text: str) -> list[tuple[int, int]]:
    """Spans of triple-quoted strings and of lines appended to a text."""
    spans: list[tuple[int, int]] = []
    opened: re.Match[str] | None = None
    for quote in _TRIPLE_QUOTE.finditer(text):
        lead = text[text.rfind("\n", 0, quote.start()) + 1 : quote.start()]
        if opened is None or _OPENS.search(lead):
            opened = quote  # `x = """` opens a text even after an unpaired quote (bad file)
        elif quote.group() == opened.group():
            spans.append((opened.start(), quote.end()))
            opened = None
    for line in _WRITTEN_LINE.finditer(text):
        end = text.find("\n", line.end())
        spans.append((line.start(), end if end != -1 else len(text)))
    return spans


def _written_lines(text: str, code: str) -> frozenset[int]:
    """Numbers of the lines of ``code`` (``code_text(text)``) that are held or written text.

    The spans are found in ``text``: a dropped comment or print line may hold a quote.
    """
    if '"""' not in text and "'''" not in text and "+=" not in text and ".write" not in text:
        return frozenset()
    starts = [0, *(newline.end() for newline in _NEWLINE.finditer(text))]
    flags = [False] * len(starts)
    for start, end in _written_spans(text):
        first = bisect_right(starts, start) - 1
        last = bisect_right(starts, max(start, end - 1)) - 1
        flags[first : last + 1] = [True] * (last + 1 - first)
    if code is not text:
        lines = text.split("\n")
        kept = zip(flags, lines, strict=True)
        flags = [flag for flag, line in kept if not _COMMENT_OR_PRINT.match(line)]
    return frozenset(number for number, flag in enumerate(flags) if flag)


def _in_restart(code: str, at: int, python: bool) -> bool:
    """True when the nearest function started before ``at`` is a restart one."""
    if "restart" not in code:
        return False
    name = ""
    for function in (_PY_FUNCTION if python else _SH_FUNCTION).finditer(code, 0, at):
        name = next(group for group in function.groups() if group)
    return "restart" in name.lower()


def _line_at(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start : end if end != -1 else len(text)]


# "deploy" as a word of the file name: deploy.sh, deploy_x.py, quick_deploy.py, one-click-deploy.sh
# (the Definition of Done counts scripts/*deploy*.py); not deployment_status.sh.
_DEPLOY_NAME = re.compile(r"(?:^|[_.\-])deploy(?:[_.\-]|$)", re.IGNORECASE)
# A workflow named after deployments that it analyses, monitors or reports on is not a deploy.
_ABOUT_DEPLOYS = re.compile(
    r"analy[sz]|report|monitor|status|notif|verif|health|check|test|validat", re.IGNORECASE
)
_TEST_PATH = re.compile(r"(?:^|/)tests?/|(?:^|/)test_[^/]*$|[_\-]tests?\.[a-z]+$", re.IGNORECASE)
_DEV_PATH = re.compile(r"(?:^|/)(?:dev|local|examples?)/", re.IGNORECASE)
SERVER_METHODS = frozenset({"docker-swarm", "ssh-docker", "paas"})
"""Methods that reach servers: these make even a test or dev script a deploy path."""


def named_deploy(path: str) -> bool:
    """True for ``deploy.sh``, ``deploy_x.py``, ``quick_deploy.py`` (a deploy entry point)."""
    return _DEPLOY_NAME.search(PurePosixPath(path).name) is not None and not is_local(path)


def about_deploys(path: str) -> bool:
    """True for ``ai-deployment-analysis.yml``, ``deploy-status.yml``: about deploys, not one."""
    return _ABOUT_DEPLOYS.search(PurePosixPath(path).name) is not None


def is_test(path: str) -> bool:
    """Tests: ``tests/…``, ``test_x.py``, ``x_test.sh`` (they name or fake a sync, not run one)."""
    return _TEST_PATH.search(path) is not None


def is_local(path: str) -> bool:
    """Tests, examples and dev helpers: ``docker compose up`` there starts a laptop stack."""
    return is_test(path) or _DEV_PATH.search(path) is not None


def is_workflow(path: str) -> bool:
    """True for GitHub Actions workflow files."""
    return path.startswith(WORKFLOW_DIR) and path.endswith((".yml", ".yaml"))


def is_script(path: str, kind: str) -> bool:
    """Shell scripts anywhere; Python files at the top level or in script folders."""
    if kind == "shell":
        return True
    if kind != "python":
        return False
    return "/" not in path or path.startswith(SCRIPT_DIRS)


# --- secret sync: read GitHub secrets, write Pulumi ESC --------------------------------------

ESC_WRITE = _signal(
    re.compile(
        r"\b(?:pulumi\s+esc|pulumi|esc)\s+env\s+(?:set|edit)\b|"
        # `pulumi esc secrets set` / `esc secret set` (scripts write ESC with it in the wild)
        r"\b(?:pulumi\s+)?esc\s+secrets?\s+set\b|"
        + _argv("(?:pulumi|esc)", "esc", "secrets?", "set")
        + "|"
        + _argv("esc", "secrets?", "set")
        + "|"
        r"\bpulumi\s+config\s+set\b[^\n]{0,300}?--secret\b|"
        + _argv("(?:pulumi|esc)", "env", "(?:set|edit)")
        + "|"
        + _argv("pulumi", "esc", "env", "set")
        + "|"
        r"/api/(?:esc|preview)/environments/|\bupdate_environment_yaml\b|\bpulumi_esc_sdk\b|"
        r"\bEnvironmentSecret\("
    )
)
WORKFLOW_SECRETS = re.compile(r"\$\{\{\s*(?:secrets\.[A-Za-z_]|toJSON\(\s*secrets\s*\))")
_PLATFORM_SECRETS = frozenset({"GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN"})
_WORKFLOW_SECRET_NAME = re.compile(r"\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)")
SCRIPT_GITHUB_SECRETS = _signal(
    re.compile(
        r"(?i)\bgh\s+secret\s+(?:list|get)\b|"
        + _argv("gh", "secret", "(?:list|get)")
        + r"|/actions/secrets\b(?![^\n]{0,80}?public-key)|"
        r"\bgithub[\s_-]{0,3}to[\s_-]{0,3}(?:pulumi|esc)\b|\bALL_SECRETS\b|toJSON\(\s*secrets\s*\)|"
        # "GitHub Organization Secrets → Pulumi ESC": what the script says it moves, and where
        r"\bgithub[\s_-]{1,3}(?:(?:org|organi[sz]ation|repo|repository)[\s_-]{1,3})?secrets?"
        r"[\s_-]{1,3}(?:→|->|to|into)[\s_-]{1,3}(?:pulumi|esc)\b"
    )
)
_RUNS_SCRIPT = _signal(
    re.compile(
        r"(?:\bpython3?\s+(?:-m\s+)?|\bbash\s+|\bsh\s+|(?<![\w.])\./|\buv\s+run\s+)"
        r"""(?:\$\(dirname\s+["']?\$0["']?\)/)?[^\s;|&]{0,200}?([\w.-]{1,100}\.(?:py|sh))\b"""
        r"([^\n]{0,200})"
    )
)
_TRIAL = re.compile(r"--dry-run|--test\b|--check\b|--validate\b")


needles("esc", "pulumi", "Environment", "env", "secret", "ALL_SECRETS", group_name=GROUP)


def writes_esc(text: str) -> bool:
    """True when ``text`` writes secrets into Pulumi ESC (CLI, argv list, REST API, SDK)."""
    searched = indexed(text)
    if not searched.has("esc", "pulumi", "Environment", group_name=GROUP):
        return False
    # Every ESC_WRITE match holds one of these ("esc" is in every "description").
    if not searched.has("env", "pulumi", "Environment", "secret", group_name=GROUP):
        return False
    return indexed(code_text(text)).search(ESC_WRITE) is not None


def workflow_reads_secrets(text: str) -> bool:
    """True when a workflow passes repository/org secrets beyond the platform's own tokens."""
    if "secrets" not in text:
        return False
    if "toJSON(secrets" in text.replace(" ", ""):
        return True
    names = set(_WORKFLOW_SECRET_NAME.findall(text))
    return bool(names - _PLATFORM_SECRETS)


def script_reads_github_secrets(text: str) -> bool:
    """True when a script reads GitHub secrets (gh secret, the API, or says it syncs them)."""
    searched = indexed(text)
    if not searched.has_lower("secret", group_name=GROUP) and not searched.has(
        "ALL_SECRETS", group_name=GROUP
    ):
        return False
    return searched.search(SCRIPT_GITHUB_SECRETS) is not None


def runs_sync_script(text: str) -> bool:
    """True when a file runs a script named after a secret sync (``github_sync.py``)."""
    if "sync" not in text:
        return False
    return any(
        "sync" in m.group(1).lower() and not _TRIAL.search(m.group(2))
        for m in indexed(text).finditer(_RUNS_SCRIPT)
    )


# A workflow's own name or a step's name saying its job is the secret sync: "Unified Secret
# Sync", "Run unified secret sync", "Sync secrets to ESC" (name: lines only, not prose).
_SAYS_SYNC = re.compile(
    r"(?im)^[ \t]*(?:-[ \t]+)?name:[^\n]{0,120}?\b(?:secrets?[ \t_-]{1,3}sync|"
    r"sync[ \t_-]{1,3}(?:[a-z]+[ \t_-]{1,3})?secrets)\b"
)


def says_secret_sync(text: str) -> bool:
    """True when a workflow names itself, or one of its steps, a secret sync."""
    return "ync" in text and _SAYS_SYNC.search(text) is not None


def scripts_run(text: str) -> tuple[str, ...]:
    """File names of the scripts a workflow runs (``python scripts/x.py``, ``./sync.sh``)."""
    if ".py" not in text and ".sh" not in text:
        return ()
    return tuple(sorted({m.group(1) for m in indexed(text).finditer(_RUNS_SCRIPT)}))


# --- a deploy workflow that deploys nothing --------------------------------------------------

_DEPLOY_STEP = re.compile(r"(?im)^([ \t]*)-[ \t]+name:[^\n]{0,200}?\bdeploy\b")
_RUN_KEY = re.compile(r"^([ \t]*)(?:-[ \t]+)?run:[ \t]*([^\n]*)$")


def _step_block(lines: list[str], first: int, indent: int) -> list[str]:
    """The lines of the step starting at ``lines[first]`` (a ``- name:`` at ``indent``)."""
    block = [lines[first]]
    for line in lines[first + 1 :]:
        stripped = line.lstrip()
        if stripped and len(line) - len(stripped) <= indent:
            break
        block.append(line)
    return block


def _step_runs_something(block: list[str]) -> bool:
    """True when a step uses an action or runs a command beyond comments and echoes."""
    for number, line in enumerate(block):
        body = line.lstrip()
        if body.startswith(("uses:", "- uses:")):
            return True
        run = _RUN_KEY.match(line)
        if run is None:
            continue
        inline = run.group(2).strip()
        script = [] if inline in ("", "|", ">", "|-", ">-") else [inline]
        if not script:
            own = len(run.group(1))
            for later in block[number + 1 :]:
                if later.strip() and len(later) - len(later.lstrip()) <= own:
                    break
                script.append(later)
        if code_text("\n".join(script)).strip():
            return True
    return False


# A workflow step changing something outside the runner: it ships or writes state.
_SHIPS = re.compile(
    r"\b(?:docker\s+push|git\s+push|scp|rsync|aws\s+s3\s+(?:cp|sync)|gsutil\s+(?:cp|rsync)|"
    r"curl\b[^\n]{0,200}?-X\s*(?:POST|PUT|PATCH)|pulumi\s+up)\b"
)


def deploy_steps_inert(text: str) -> bool:
    """True when a workflow's steps named deploy only echo, and no step ships anything.

    ``- name: Deploy to production`` whose ``run:`` is ``echo "Deploying…"`` and commented-out
    examples, after steps that only build and test, deploys nothing. A deploy step that uses an
    action or runs a command does, and so does a workflow writing Pulumi ESC or pushing,
    uploading or copying out (``esc env set``, ``docker push``, ``rsync``) before its echo.
    """
    if "eploy" not in text:
        return False
    if writes_esc(text) or _SHIPS.search(code_text(text)):
        return False
    lines = text.split("\n")
    starts = {text.count("\n", 0, m.start()): len(m.group(1)) for m in _DEPLOY_STEP.finditer(text)}
    if not starts:
        return False
    return not any(
        _step_runs_something(_step_block(lines, first, indent)) for first, indent in starts.items()
    )
