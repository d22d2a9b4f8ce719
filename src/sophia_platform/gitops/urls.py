"""Repository URLs as the engines take them: no credentials inside, SSH in URL form."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sophia_platform.errors import UsageError

_SCP_LIKE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def check_repo_url(url: str) -> str:
    """Return ``url`` if an engine can use it and it carries no secret; else explain."""
    scp = _SCP_LIKE.match(url)
    if scp:
        fixed = f"ssh://{scp['user']}@{scp['host']}/{scp['path']}"
        raise UsageError(
            f"{url!r} is scp-like; Flux needs an ssh:// URL", hint=f"use --repo-url {fixed}"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ssh"):
        raise UsageError(f"{url!r}: the repository URL must be https://, http:// or ssh://")
    if parts.password is not None:
        # The URL is committed to the tree: credentials belong in a Secret (--git-secret).
        raise UsageError(
            "the repository URL holds a password or token; it would be committed to git",
            hint="pass the URL without credentials and name a Secret with --git-secret",
        )
    return url
