"""asyncssh, imported without its slow shared-library searches (import ``asyncssh`` here).

At import, asyncssh looks for optional C libraries — liboqs (the sntrup761 key exchange) and
nettle (UMAC) — with ``ctypes.util.find_library``, which on Linux runs ``ldconfig -p`` per
name, then ``gcc`` and ``ld`` for an absent one: seven processes, 0.4 s of wall time on an
idle machine and 2 s under load, on every ``sophia cluster`` command. While asyncssh is
imported, a lookup here reads the library directories instead (a present library is still
found and used, by its soname); the stdlib function is restored right after.
"""

from __future__ import annotations

import ctypes.util
import glob
import os
import re

_LIB_DIRS = (
    "/usr/local/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib64",
    "/lib",
)
_find_library = ctypes.util.find_library


def _find_in_dirs(name: str) -> str | None:
    """``libNAME.so.N`` (else ``libNAME.so``) from the library directories, or None."""
    extra = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if d]
    soname = re.compile(rf"lib{re.escape(name)}\.so\.\d+$")
    for directory in (*extra, *_LIB_DIRS):
        found = [os.path.basename(p) for p in glob.glob(os.path.join(directory, f"lib{name}.so*"))]
        versioned = sorted(f for f in found if soname.match(f))
        if versioned or f"lib{name}.so" in found:
            return versioned[0] if versioned else f"lib{name}.so"
    return None


ctypes.util.find_library = _find_in_dirs
try:
    import asyncssh as asyncssh
finally:
    ctypes.util.find_library = _find_library

__all__ = ["asyncssh"]
