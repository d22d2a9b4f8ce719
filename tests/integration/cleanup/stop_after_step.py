"""Run ``sophia cleanup apply --yes REPO`` and freeze it right after step N is journaled.

The kill-safety test starts this as a real process and SIGKILLs it once it prints ``frozen``:
the stop point is a test fixture wrapped around the journal, not a hook in the product.
Usage: python stop_after_step.py N REPO
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from sophia_platform.cleanup.journal import Journal
from sophia_platform.cli.main import main


def freeze_after(steps: int) -> None:
    original = Journal.mark_done

    def mark_done(self: Journal, root: Path, step: int) -> None:
        original(self, root, step)
        if len(self.done) == steps:
            print("frozen", flush=True)
            while True:
                signal.pause()  # until the test's SIGKILL

    Journal.mark_done = mark_done  # type: ignore[method-assign]


if __name__ == "__main__":
    freeze_after(int(sys.argv[1]))
    sys.exit(main(["cleanup", "apply", "--yes", sys.argv[2]]))
