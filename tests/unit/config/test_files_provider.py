"""The mounted-secrets layer against real directories laid out the way the kubelet does it."""

import os
from pathlib import Path

from sophia_platform.config.keys import parse_key
from sophia_platform.config.providers.files import FilesProvider


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def kubelet_mount(root: Path, data: dict[str, str], generation: int) -> None:
    """Write ``data`` like the kubelet: a timestamped dir, ``..data`` symlink, per-key links."""
    root.mkdir(exist_ok=True)
    stamp = root / f"..2026_11_25_18_00_{generation:02d}.000000001"
    stamp.mkdir()
    for key, value in data.items():
        (stamp / key).write_text(value)
    tmp_link = root / "..data_tmp"
    tmp_link.symlink_to(stamp.name)
    os.replace(tmp_link, root / "..data")  # the atomic swap
    for key in data:
        link = root / key
        if not link.is_symlink():
            link.symlink_to(f"..data/{key}")


def test_reads_kubelet_layout_and_sees_the_swap(tmp_path: Path) -> None:
    mount = tmp_path / "sophia"
    kubelet_mount(mount, {"OPENAI_API_KEY": "sk-one-123456789\n", "redis_url": "redis://r:6379"}, 1)
    clock = Clock()
    files = FilesProvider(mount, recheck_seconds=2.0, clock=clock)
    key = parse_key("OPENAI_API_KEY")
    assert files.lookup(key) == "sk-one-123456789"  # the trailing newline is dropped
    assert files.lookup(parse_key("REDIS_URL")) == "redis://r:6379"  # lower-case file name
    assert files.status().state == "ok"

    kubelet_mount(mount, {"OPENAI_API_KEY": "sk-two-123456789", "redis_url": "redis://r:6379"}, 2)
    assert files.lookup(key) == "sk-one-123456789"  # within the recheck interval: cached
    clock.now = 2.5
    assert files.lookup(key) == "sk-two-123456789"


def test_upper_case_file_wins_over_lower_case(tmp_path: Path) -> None:
    (tmp_path / "openai_api_key").write_text("lower-value-1234")
    (tmp_path / "OPENAI_API_KEY").write_text("upper-value-1234")
    files = FilesProvider(tmp_path)
    assert files.lookup(parse_key("openai_api_key")) == "upper-value-1234"


def test_plain_directory_edit_in_place_is_seen(tmp_path: Path) -> None:
    clock = Clock()
    (tmp_path / "LOG_LEVEL").write_text("info")
    files = FilesProvider(tmp_path, recheck_seconds=1.0, clock=clock)
    assert files.lookup(parse_key("LOG_LEVEL")) == "info"
    (tmp_path / "LOG_LEVEL").write_text("debug-level")  # size and mtime change
    clock.now = 1.0
    assert files.lookup(parse_key("LOG_LEVEL")) == "debug-level"
    (tmp_path / "LOG_LEVEL").unlink()
    clock.now = 2.0
    assert files.lookup(parse_key("LOG_LEVEL")) is None


def test_skips_odd_entries_and_reports_them_by_name(tmp_path: Path) -> None:
    (tmp_path / "GOOD").write_text("value-12345")
    (tmp_path / "BINARY").write_bytes(b"\xff\xfe\x00canary")
    (tmp_path / "HUGE").write_bytes(b"a" * (1024 * 1024 + 1))
    (tmp_path / "subdir").mkdir()
    (tmp_path / "not a key").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    files = FilesProvider(tmp_path)
    assert files.lookup(parse_key("GOOD")) == "value-12345"
    assert files.lookup(parse_key("BINARY")) is None
    assert files.lookup(parse_key("HUGE")) is None
    status = files.status()
    assert status.state == "ok"
    assert "BINARY (not UTF-8)" in status.detail
    assert "HUGE (larger than 1 MiB)" in status.detail
    assert "canary" not in status.detail


def test_missing_directory(tmp_path: Path) -> None:
    default = FilesProvider(tmp_path / "nope", explicit=False)
    assert default.lookup(parse_key("A")) is None
    assert default.status().state == "not configured"
    explicit = FilesProvider(tmp_path / "nope", explicit=True)
    assert explicit.status().state == "failed"
    assert "is not a directory" in explicit.searched(parse_key("A"))
