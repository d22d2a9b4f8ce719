"""How secret values are compared and shown without being revealed: digests and fingerprints."""

from __future__ import annotations

import hashlib


def value_digest(value: str) -> str:
    """The sha256 hex digest of a secret value (what plans and layers are compared by)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def fingerprint(digest: str | None) -> str | None:
    """A short, display-safe prefix of a digest (12 hex digits) for ``trace``."""
    return digest[:12] if digest else None
