from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sophia_platform import atomicfile
from sophia_platform.atomicfile import write_atomic, write_text_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_private_file_is_0600_before_its_first_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "key.pem"
    seen: list[tuple[int, int, list[str]]] = []
    real_fdopen = os.fdopen

    def spying_fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        info = os.fstat(fd)  # the temp file, just before anything is written to it
        seen.append((stat.S_IMODE(info.st_mode), info.st_size, sorted(os.listdir(tmp_path))))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(atomicfile.os, "fdopen", spying_fdopen)
    old_umask = os.umask(0)  # a lax umask must not widen the temp file
    try:
        write_atomic(target, b"canary-key-bytes", mode=0o600)
    finally:
        os.umask(old_umask)

    [(temp_mode, temp_size, listing)] = seen
    assert temp_mode == 0o600
    assert temp_size == 0
    [temp_name] = listing
    assert temp_name.startswith(".key.pem.") and temp_name.endswith(".tmp")
    assert target.read_bytes() == b"canary-key-bytes"
    assert _mode(target) == 0o600
    assert os.listdir(tmp_path) == ["key.pem"]


def test_mode_none_keeps_the_existing_mode_and_a_new_file_gets_0644(tmp_path: Path) -> None:
    existing = tmp_path / "script.sh"
    existing.write_text("old")
    existing.chmod(0o750)
    write_atomic(existing, b"new")
    assert existing.read_bytes() == b"new"
    assert _mode(existing) == 0o750

    old_umask = os.umask(0o077)  # mkstemp's 0600 or a strict umask must not leak through
    try:
        write_atomic(tmp_path / "fresh.txt", b"x")
    finally:
        os.umask(old_umask)
    assert _mode(tmp_path / "fresh.txt") == 0o644


def test_an_explicit_mode_replaces_the_existing_one(tmp_path: Path) -> None:
    target = tmp_path / "store"
    target.write_text("old")
    target.chmod(0o644)
    write_atomic(target, b"new", mode=0o600)
    assert _mode(target) == 0o600


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_keeps_the_old_content_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "journal.json"
    target.write_bytes(b"old content")
    target.chmod(0o600)

    def boom(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomicfile.os, failing, boom)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b"new content")

    assert target.read_bytes() == b"old content"
    assert _mode(target) == 0o600
    assert os.listdir(tmp_path) == ["journal.json"]


def test_missing_parents_are_an_error_unless_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "plan.json"
    with pytest.raises(FileNotFoundError):
        write_atomic(target, b"{}")
    assert not (tmp_path / "a").exists()

    write_atomic(target, b"{}", parents=True)
    assert target.read_bytes() == b"{}"


def test_text_is_written_as_utf8(tmp_path: Path) -> None:
    target = tmp_path / "values.yaml"
    write_text_atomic(target, "name: café ✓\n", mode=0o600)
    assert target.read_bytes() == "name: café ✓\n".encode()
    assert _mode(target) == 0o600
