"""Per-language rewrite tables: input line(s) with a flagged span → rewritten text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform.cleanup.plan import apply_edits
from sophia_platform.cleanup.rewriters import for_kind
from sophia_platform.cleanup.rewriters.base import Site

IMPORT = "from sophia_platform.config import require as require_config\n"
N = "NODE_AI_CORE_HOST"


def _sites(text: str, needle: str, name: str, kind: str) -> list[Site]:
    sites = []
    for number, line in enumerate(text.split("\n"), 1):
        start = line.find(needle)
        while start >= 0:
            sites.append(Site(number, start, start + len(needle), needle, name, kind))  # type: ignore[arg-type]
            start = line.find(needle, start + 1)
    return sites


def rewrite(
    kind: str, text: str, needle: str = "10.0.0.5", name: str = N, what: str = "host"
) -> str:
    rewriter = for_kind(kind)
    assert rewriter is not None
    result = rewriter.rewrite(text, _sites(text, needle, name, what))
    assert result.skipped == []
    new = apply_edits(text, result.edits)
    assert rewriter.check(text, new) is None
    return new


PYTHON = [
    ('HOST = "10.0.0.5"\n', IMPORT + f'HOST = require_config("{N}").reveal()\n'),
    (
        '"""Doc on 10.0.0.5."""\nimport os\nURL = f"http://10.0.0.5:{PORT}/"\n',
        f'"""Doc on {N}."""\n{IMPORT}import os\n'
        f"URL = f\"http://{{require_config('{N}').reveal()}}:{{PORT}}/\"\n",
    ),
    (
        "from __future__ import annotations\nURL = 'http://10.0.0.5/{x}'  # on 10.0.0.5\n",
        "from __future__ import annotations\n"
        + IMPORT
        + f"URL = f'http://{{require_config(\"{N}\").reveal()}}/{{{{x}}}}'  # on {N}\n",
    ),
    (
        "#!/usr/bin/env python\nhosts = ['10.0.0.5', \"10.0.0.5\"]\n",
        f'#!/usr/bin/env python\n{IMPORT}hosts = [require_config("{N}").reveal(), '
        f'require_config("{N}").reveal()]\n',
    ),
    (
        IMPORT + 'X = u"10.0.0.5:80"\n',
        IMPORT + f"X = f\"{{require_config('{N}').reveal()}}:80\"\n",
    ),
    (
        'def f():\n    """Talks to 10.0.0.5."""\n    return """\nssh 10.0.0.5 {x}\n"""\n',
        f'{IMPORT}def f():\n    """Talks to {N}."""\n'
        f'    return f"""\nssh {{require_config(\'{N}\').reveal()}} {{{{x}}}}\n"""\n',
    ),
]


@pytest.mark.parametrize(("source", "expected"), PYTHON)
def test_python(source: str, expected: str) -> None:
    assert rewrite("python", source) == expected


def test_python_placeholder_becomes_lookup() -> None:
    source = 'OPENAI_API_KEY = "changeme"\n'
    new = rewrite("python", source, "changeme", "OPENAI_API_KEY", "secret")
    assert new == IMPORT + 'OPENAI_API_KEY = require_config("OPENAI_API_KEY").reveal()\n'


def test_python_bytes_literal_is_skipped() -> None:
    text = 'X = b"10.0.0.5"\n'
    result = for_kind("python").rewrite(text, _sites(text, "10.0.0.5", N, "host"))  # type: ignore[union-attr]
    assert result.edits == [] and result.skipped[0][1] == "bytes literal"


def test_python_that_does_not_compile_is_rewritten_up_to_the_error() -> None:
    """A module broken half-way (seen in real repos) still loses its addresses, and fails to
    compile exactly as before; a site past the error is listed, not guessed at."""
    text = (
        '"""Talks to 10.0.0.5."""\n'
        "from __future__ import annotations\n"
        'HOST = os.getenv("HOST", "10.0.0.5")\n'
        "def f():\n"
        "return 1\n"  # IndentationError here: tokenize goes on, compile() stops
        'LATER = "10.0.0.5"\n'
    )
    new = rewrite("python", text)
    assert new == (
        f'"""Talks to {N}."""\n'
        "from __future__ import annotations\n"
        + IMPORT
        + f'HOST = os.getenv("HOST", require_config("{N}").reveal())\n'
        "def f():\n"
        "return 1\n"
        f'LATER = require_config("{N}").reveal()\n'
    )
    broken = text.replace("return 1\n", 'x = """unterminated\n')
    rewriter = for_kind("python")
    assert rewriter is not None
    result = rewriter.rewrite(broken, _sites(broken, "10.0.0.5", N, "host"))
    assert [site.line for site, _ in result.skipped] == [6]
    assert "fix its syntax first" in result.skipped[0][1]
    assert rewriter.check(broken, apply_edits(broken, result.edits)) is None


def test_python_rewrite_that_would_add_an_error_is_refused() -> None:
    rewriter = for_kind("python")
    assert rewriter is not None
    original = "def f():\nreturn 1\n"
    assert rewriter.check(original, "x = (\n" + original) is not None
    assert rewriter.check('HOST = "10.0.0.5"\n', 'HOST = require_config("X"\n') is not None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("ssh root@10.0.0.5 uptime\n", f"ssh root@${{{N}}} uptime\n"),
        ('curl "http://10.0.0.5:8000"\n', f'curl "http://${{{N}}}:8000"\n'),
        ("echo 'host 10.0.0.5 up'\n", f"echo 'host '\"${{{N}}}\"' up'\n"),
        ("# node 10.0.0.5\n", f"# node ${{{N}}}\n"),
    ],
)
def test_shell(source: str, expected: str) -> None:
    assert rewrite("shell", source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("host: 10.0.0.5\n", f'host: "${{{N}}}"\n'),
        ("hosts: [10.0.0.5, a]\n", f'hosts: ["${{{N}}}", a]\n'),
        ("- 10.0.0.5\n", f'- "${{{N}}}"\n'),
        ("url: http://10.0.0.5:80/x\n", f"url: http://${{{N}}}:80/x\n"),
        ("host: '10.0.0.5'\n", f"host: '${{{N}}}'\n"),
        ("run: |\n  ssh root@10.0.0.5\n", f"run: |\n  ssh root@${{{N}}}\n"),
        ("a: {host: 10.0.0.5}\n", f'a: {{host: "${{{N}}}"}}\n'),
    ],
)
def test_yaml(source: str, expected: str) -> None:
    assert rewrite("yaml", source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [("api_key: changeme\n", 'api_key: ""\n'), ("token: 'changeme' # x\n", 'token: "" # x\n')],
)
def test_yaml_placeholder(source: str, expected: str) -> None:
    assert rewrite("yaml", source, "changeme", "API_KEY", "secret") == expected


@pytest.mark.parametrize(
    ("source", "expected", "what", "needle"),
    [
        ("REDIS_HOST=10.0.0.5\n", f"REDIS_HOST=${{{N}}}\n", "host", "10.0.0.5"),
        ("API_KEY=changeme\n", "API_KEY=\n", "secret", "changeme"),
        ('API_KEY="changeme"\n', "API_KEY=\n", "secret", "changeme"),
    ],
)
def test_env(source: str, expected: str, what: str, needle: str) -> None:
    assert rewrite("env", source, needle, N, what) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("The API runs on 10.0.0.5.\n", f"The API runs on `{N}`.\n"),
        ("Run `ssh 10.0.0.5`.\n", f"Run `ssh ${{{N}}}`.\n"),
        ("```bash\nssh 10.0.0.5\n```\n", f"```bash\nssh ${{{N}}}\n```\n"),
    ],
)
def test_docs(source: str, expected: str) -> None:
    assert rewrite("docs", source) == expected


def test_json_and_toml() -> None:
    assert rewrite("json", '{"host": "10.0.0.5"}\n') == f'{{"host": "${{{N}}}"}}\n'
    assert rewrite("toml", 'host = "10.0.0.5"\n') == f'host = "${{{N}}}"\n'
    assert rewrite("json", '{"key": "changeme"}', "changeme", "K", "secret") == '{"key": ""}'


def test_rewritten_python_reads_the_real_value_at_run_time(tmp_path: Path) -> None:
    source = 'URL = f"http://10.0.0.5:8000/{1 + 1}"\nHOST = "10.0.0.5"\nprint(URL, HOST)\n'
    (tmp_path / N).write_text("10.9.8.7\n")
    env = {**os.environ, "SOPHIA_SECRETS_DIR": str(tmp_path), "SOPHIA_CONFIG_ORDER": "files"}
    run = subprocess.run(
        [sys.executable, "-c", rewrite("python", source)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == "http://10.9.8.7:8000/2 10.9.8.7\n"


def test_python_module_that_uses_the_lookup_name_is_skipped() -> None:
    text = 'def require_config(x):\n    return x\nH = "10.0.0.5"\n'
    result = for_kind("python").rewrite(text, _sites(text, "10.0.0.5", N, "host"))  # type: ignore[union-attr]
    assert not result.edits and "already defines" in result.skipped[0][1]
