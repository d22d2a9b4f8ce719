"""Benchmark: cached get_config_value() latency per layer (target <= 5 us) and import time,
and how long start-up waits on an ESC that never answers (target: SOPHIA_ESC_TIMEOUT, once).

All four layers are live: overrides, a real secrets directory, Pulumi ESC loaded from the local
ESC server of tests/servers (real HTTP on 127.0.0.1, opened once), and the environment. A hit
in a later layer pays for the misses in the earlier ones, so "env" and "default" are the worst
cases. Run: .venv/bin/python benchmarks/config_latency.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.servers.esc

from tests.servers.esc import EscServer  # noqa: E402

from sophia_platform.config import (  # noqa: E402
    Config,
    configure,
    get_config_value,
    set_override,
)

TARGET_US = 5.0
REF = "acme/default/bench"


def import_time_ms(runs: int = 9) -> float:
    code = (
        "import time; t = time.perf_counter(); import sophia_platform.config; "
        "print(time.perf_counter() - t)"
    )
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(samples) * 1000


def per_call_us(key: str, default: str | None = None, number: int = 200_000) -> float:
    timer = timeit.Timer(lambda: get_config_value(key, default))
    best = min(timer.repeat(repeat=5, number=number))
    return best / number * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, EscServer() as esc:
        secrets_dir = Path(tmp)
        (secrets_dir / "FILE_KEY").write_text("from-a-mounted-file\n")
        esc.state.add_environment(REF, {"esc_key": {"fn::secret": "from-esc-1234"}})
        os.environ.update(
            {
                "ENV_KEY": "from-the-environment",
                "SOPHIA_ESC_ENV": REF,
                "PULUMI_ACCESS_TOKEN": esc.token,
                "PULUMI_BACKEND_URL": esc.backend_url,
                "SOPHIA_SECRETS_DIR": str(secrets_dir),
            }
        )
        os.environ.pop("SOPHIA_CONFIG_ORDER", None)
        configure()  # the default config, built from os.environ as an app's would be
        set_override("OVERRIDE_KEY", "from-an-override")

        started = time.perf_counter()
        assert get_config_value("ESC_KEY") is not None  # first use: opens ESC once
        first_ms = (time.perf_counter() - started) * 1000
        cases = [
            ("overrides hit", "OVERRIDE_KEY", None),
            ("files hit", "FILE_KEY", None),
            ("esc hit", "ESC_KEY", None),
            ("env hit (3 misses first)", "ENV_KEY", None),
            ("miss -> default (4 misses)", "NOT_SET_ANYWHERE", "fallback"),
        ]
        for _, key, default in cases:
            value = get_config_value(key, default)
            assert value is not None, key
        print(f"import sophia_platform.config   median {import_time_ms():6.1f} ms (fresh process)")
        print(f"first lookup (opens ESC)        {first_ms:6.1f} ms (local ESC server)")
        worst = 0.0
        for label, key, default in cases:
            us = per_call_us(key, default)
            worst = max(worst, us)
            print(f"get_config_value {label:<28} {us:6.2f} us/call")
        verdict = "OK" if worst <= TARGET_US else "OVER TARGET"
        print(
            f"worst cached get_config_value: {worst:.2f} us (target <= {TARGET_US:g} us): {verdict}"
        )
        print(
            f"ESC requests during the benchmark: {esc.state.count('open')} open, "
            f"{esc.state.count('read')} read"
        )


def hanging_esc(budget_s: float = 0.5) -> None:
    """Start-up against an ESC that holds every open: the budget is spent once, then never."""
    with EscServer() as esc:
        esc.state.add_environment(REF, {"esc_key": "never-served"})
        held = esc.state.hold(times=None, op="open")
        environ = {
            "SOPHIA_ESC_ENV": REF,
            "PULUMI_ACCESS_TOKEN": esc.token,
            "PULUMI_BACKEND_URL": esc.backend_url,
            "ENV_KEY": "from-the-environment",
        }
        config = Config.from_env(
            environ=environ,
            order=("overrides", "esc", "env"),
            esc_timeout=budget_s,
            esc_request_timeout=20,
        )
        started = time.perf_counter()
        assert config.require("ENV_KEY").source == "env"
        first = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(10):
            config.get("ENV_KEY")
        later_ms = (time.perf_counter() - started) * 1000
        held.released.set()
        ok = budget_s * 0.8 <= first <= budget_s * 3 and later_ms < 200
        print(
            f"ESC hangs: first lookup {first:.2f} s (SOPHIA_ESC_TIMEOUT={budget_s:g} s), "
            f"10 later lookups {later_ms:.1f} ms (target < 200 ms): {'OK' if ok else 'OFF TARGET'}"
        )


if __name__ == "__main__":
    main()
    hanging_esc()
