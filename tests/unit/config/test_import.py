"""``import sophia_platform.config`` must stay light: apps import it at startup."""

import json
import subprocess
import sys

FORBIDDEN = ("kubernetes", "typer", "rich", "click", "pydantic", "httpx", "ruamel", "yaml")
# The ESC client imports urllib.request (and with it ssl, http.client, email) only on first use.
LAZY = ("urllib.request", "http.client", "ssl", "email")


def _modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return list(json.loads(out.stdout))


def test_import_pulls_in_nothing_heavy() -> None:
    modules = _modules_after("import sophia_platform.config")
    assert "sophia_platform.config" in modules
    heavy = [m for m in modules if m.split(".")[0] in FORBIDDEN or m in LAZY]
    assert heavy == []


def test_import_touches_only_the_errors_module_of_the_package() -> None:
    modules = _modules_after("import sophia_platform.config")
    ours = {m for m in modules if m.startswith("sophia_platform.") and ".config" not in m}
    assert ours <= {"sophia_platform.errors"}


def test_first_lookup_without_esc_loads_no_network_modules() -> None:
    modules = _modules_after(
        "import os; os.environ.pop('SOPHIA_ESC_ENV', None)\n"
        "import sophia_platform.config as c; c.get_config_value('PATH'); c.layer_status()"
    )
    assert [m for m in modules if m in LAZY or m.split(".")[0] in FORBIDDEN] == []
