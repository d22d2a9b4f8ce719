"""Many threads reading while layers change underneath: no errors, only valid values."""

import os
import threading
from pathlib import Path

from sophia_platform.config import Config

from .test_files_provider import kubelet_mount

THREADS = 24
READS = 3000


def test_concurrent_reads_while_files_and_overrides_change(tmp_path: Path) -> None:
    mount = tmp_path / "sophia"
    kubelet_mount(mount, {"API_TOKEN": "token-generation-00"}, 0)
    config = Config.from_env(
        environ={"FROM_ENV": "env-value-1234"}, secrets_dir=mount, secrets_recheck=0.0
    )
    valid_tokens = {f"token-generation-{i:02d}" for i in range(30)}
    valid_modes = {"mode-a", "mode-b", None}
    errors: list[BaseException] = []
    seen_tokens: set[str] = set()
    stop = threading.Event()
    start = threading.Barrier(THREADS + 1)

    def reader() -> None:
        try:
            start.wait()
            for _ in range(READS):
                token = config.require("API_TOKEN").reveal()
                assert token in valid_tokens
                seen_tokens.add(token)
                mode = config.get("MODE")
                assert (mode.reveal() if mode else None) in valid_modes
                assert config.require("from_env").reveal() == "env-value-1234"
        except BaseException as exc:
            errors.append(exc)

    def writer() -> None:
        start.wait()
        generation = 1
        while not stop.is_set() and generation < 30:
            kubelet_mount(mount, {"API_TOKEN": f"token-generation-{generation:02d}"}, generation)
            config.set_override("MODE", "mode-a" if generation % 2 else "mode-b")
            if generation % 3 == 0:
                config.remove_override("MODE")
            generation += 1
            stop.wait(0.005)

    readers = [threading.Thread(target=reader) for _ in range(THREADS)]
    writer_thread = threading.Thread(target=writer)
    for t in [*readers, writer_thread]:
        t.start()
    for t in readers:
        t.join(60)
    stop.set()
    writer_thread.join(10)
    assert errors == []
    assert len(seen_tokens) > 1  # the readers really saw the mount change under them
    assert os.path.islink(mount / "..data")
