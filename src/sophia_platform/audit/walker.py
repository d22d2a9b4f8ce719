"""Which files a scan reads: git-aware listing, then binary / huge / unreadable filtering.

Listing goes through :mod:`sophia_platform.git` (tracked + untracked-not-ignored files, or
everything with ``include_ignored``); outside a git work tree the folder is walked instead,
skipping ``.git``. Text is decoded as UTF-8 (BOM honoured), then UTF-16 when a UTF-16 BOM is
present, and otherwise as Latin-1 so that no file is ever unreadable because of its encoding.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sophia_platform import git
from sophia_platform.audit.model import SkippedFile
from sophia_platform.audit.source import SourceFile, file_kind
from sophia_platform.errors import InputError

BINARY_SNIFF_BYTES = 8192
DEFAULT_MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Listing:
    """The files to consider, relative to ``root``, and whether git produced the list."""

    root: Path
    paths: list[str]
    git_aware: bool


@dataclass(frozen=True, slots=True)
class Place:
    """Where a scan is: the root (git top level, else the folder), and the part of it asked for."""

    root: Path
    under: str  # "" for the whole root, else a repo-relative POSIX folder or file
    git_aware: bool


def locate(path: Path) -> Place:
    """Find the root of ``path`` without listing anything."""
    path = path.resolve()
    top = git.toplevel(path)
    if top is not None:
        top = top.resolve()
        return Place(top, "" if top == path else path.relative_to(top).as_posix(), True)
    if path.is_file():
        return Place(path.parent, path.name, False)
    return Place(path, "", False)


def list_files(path: Path, *, include_ignored: bool = False) -> Listing:
    """List candidate files under ``path``; the root is the git top level when there is one."""
    place = locate(path)
    if place.git_aware:
        found = git.ls_files(place.root, include_ignored=include_ignored, under=place.under)
        return Listing(place.root, found, True)
    if place.under:
        return Listing(place.root, [place.under], False)
    return Listing(place.root, _walk(place.root), False)


def _walk(path: Path, prefix: str = "") -> list[str]:
    paths: list[str] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        rel = Path(dirpath).relative_to(path).as_posix()
        folder = prefix if rel == "." else prefix + rel + "/"
        paths.extend(folder + name for name in sorted(filenames))
    return paths


def list_targets(place: Place, targets: tuple[Path, ...], *, include_ignored: bool) -> list[str]:
    """The files named by ``targets`` (files, or folders to list), relative to ``place.root``.

    What a pre-commit hook passes: explicit files, scanned even when git would not list them
    (a missing one is reported as skipped by the read). Folders are listed as a scan would.
    """
    root = place.root
    out: dict[str, None] = {}
    for target in targets:
        full = Path(os.path.abspath(target))  # not resolve(): a symlink is listed as itself
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:
            raise InputError(
                f"{target}: outside the repository {root}; audit it on its own"
            ) from None
        if not full.is_dir():
            out[rel] = None
        elif place.git_aware:
            under = "" if rel == "." else rel
            found = git.ls_files(root, include_ignored=include_ignored, under=under)
            out.update(dict.fromkeys(found))
        else:
            out.update(dict.fromkeys(_walk(full, "" if rel == "." else rel + "/")))
    return list(out)


def decode(raw: bytes) -> str:
    """Decode file bytes, tolerating any encoding (see module docstring)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", "replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def is_binary(raw: bytes) -> bool:
    """True for bytes that look binary (a NUL in the first block, UTF-16 BOMs excepted)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return raw.find(b"\0", 0, BINARY_SNIFF_BYTES) != -1  # no copy of the head


def read_source(root: Path, rel: str, max_bytes: int) -> SourceFile | SkippedFile:
    """Read one listed file, or say why it was skipped."""
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return SkippedFile(rel, "missing")
    except OSError:
        return SkippedFile(rel, "unreadable")
    if not stat.S_ISREG(st.st_mode):
        return SkippedFile(rel, "not-a-file")  # symlinks, submodules, sockets
    if st.st_size > max_bytes:
        return SkippedFile(rel, "too-large")
    try:
        with open(full, "rb") as handle:
            raw = handle.read()
    except OSError:
        return SkippedFile(rel, "unreadable")
    item = source_from_bytes(rel, raw, max_bytes)
    if isinstance(item, SourceFile):
        item.on_disk = True
    return item


def source_from_bytes(rel: str, raw: bytes, max_bytes: int) -> SourceFile | SkippedFile:
    """Decode one file's bytes (from disk or a git blob), or say why it is skipped."""
    if len(raw) > max_bytes:
        return SkippedFile(rel, "too-large")
    if is_binary(raw):
        return SkippedFile(rel, "binary")
    text = decode(raw)
    # sha1 only groups identical bytes for duplicate detection; it protects nothing.
    digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
    return SourceFile(rel, text, file_kind(rel, text[:200]), len(raw), digest)


def read_all(
    listing: Listing, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> Iterator[SourceFile | SkippedFile]:
    """Read every listed file in order."""
    for rel in listing.paths:
        yield read_source(listing.root, rel, max_bytes)
