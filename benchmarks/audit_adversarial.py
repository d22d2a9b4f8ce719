"""Worst-case inputs for ``sophia audit``: every rule must stay linear.

    .venv/bin/python benchmarks/audit_adversarial.py

Each rule's per-file work (``check`` and ``summarize``) is timed on adversarial texts — a
150 KB base64 run on one line (in a ``.env`` and a ``.py``), a 150 KB minified bundle with a
60,000-character inline source map, 150 KB of dotted numbers, 150 KB of ``key=`` pairs
with no newline, a 1 MB file of long lines — then the text doubled, to show growth is
linear (the ratio stays near 2). The vendored/generated filter is bypassed: these are the
costs a rule pays when such a file is in scope. Goal (issue 13): <= 50 ms per 150 KB input.
Then a whole scan of a repository holding them plus a 10 MB file (skipped as too large).
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

from sophia_platform.audit import ScanOptions, scan
from sophia_platform.audit.rules import all_rules
from sophia_platform.audit.rules.base import CorpusRule
from sophia_platform.audit.source import SourceFile, file_kind

KB = 1024


def inputs(size: int) -> dict[str, str]:
    """Adversarial texts of about ``size`` characters each, by file name."""
    rng = random.Random(7)
    blob = base64.b64encode(rng.randbytes(size * 3 // 4)).decode()[:size]
    sourcemap = base64.b64encode(rng.randbytes(45_000)).decode()[:60_000]
    bundle_part = "var a=b.c(d,e);function f(g){return g.h.i_j$k+1.2.3.4}"
    bundle = (bundle_part * (size // len(bundle_part)))[: size - 60_100]
    return {
        "config/.env": f"API_SECRET_KEY={blob}\n",
        "app/blob.py": f'DATA = "{blob}"\n',
        "static/app.js": bundle
        + "\n//# sourceMappingURL=data:application/json;base64,"
        + sourcemap,
        "docs/numbers.md": ".".join(str(rng.randrange(999)) for _ in range(size // 4))[:size],
        "config/pairs.yml": " ".join(f"key{i}=token{i}" for i in range(size // 14))[:size],
        "scripts/long_lines.sh": ("echo " + "x" * 4000 + "\n") * (size * 7 // 4000),
        # Docs rules: one line of distinct secret-like names, one of unfinished deploy commands.
        "docs/names.md": " ".join(f"VENDOR{i}_API_KEY" for i in range(size // 16))[:size],
        "docs/commands.md": ("docker compose -f x.yml ssh host docker " * (size // 40))[:size],
    }


def source(path: str, text: str) -> SourceFile:
    raw = text.encode()
    digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
    return SourceFile(path, text, file_kind(path, text[:200]), len(raw), digest)


def rule_costs() -> None:
    print(f"{'input':24} {'size':>7} {'slowest rule':22} {'ms':>7} {'2x ms':>7} {'ratio':>6}")
    small, big = inputs(150 * KB), inputs(300 * KB)
    for path, text in small.items():
        worst = ("", 0.0, 0.0)
        for rule_id, rule in all_rules().items():
            times = []
            for sample in (text, big[path]):
                file = source(path, sample)
                started = time.perf_counter()
                if rule.wants(file):
                    list(rule.check(file))
                if isinstance(rule, CorpusRule):
                    rule.summarize(file)
                times.append(time.perf_counter() - started)
            if times[0] > worst[1]:
                worst = (rule_id, times[0], times[1])
        name, one, two = worst
        ratio = two / one if one > 0 else 0.0
        size = f"{len(text) // KB:>5}KB"
        print(f"{path:24} {size} {name:22} {one * 1e3:7.1f} {two * 1e3:7.1f} {ratio:6.2f}")


def whole_scan() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for path, text in inputs(150 * KB).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        (root / "data").mkdir()
        (root / "data/huge.txt").write_text("10.0.0.5 " * (10 * KB * KB // 9))
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        started = time.perf_counter()
        result = scan(root, ScanOptions())
        took = time.perf_counter() - started
        print(
            f"whole scan: {result.stats.files_listed} files in {took * 1e3:.0f} ms; "
            f"skipped {result.stats.skipped_by_reason()}"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    rule_costs()
    whole_scan()
