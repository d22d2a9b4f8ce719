"""The one pod-template stamp that restarts pods when the Secrets they use change.

Two writers set it: ``secrets sync --to kubernetes`` patches it onto the workloads whose
Secrets it changed (so pods restart without a deploy, which ESO cannot do: ESO#3218), and the
Helm chart renders it from the values ``sophia deploy`` generates. Both compute it here, from
the same inputs (the content hash of every existing Secret the pod template references), so a
deploy after a sync renders the value the sync already set and restarts nothing a second time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping

from sophia_platform.secrets.digest import value_digest

TEMPLATE_ANNOTATION = "sophia.dev/secrets-hash"
NO_SECRETS = "none"


def content_hash(data: Mapping[str, str]) -> str:
    """sha256 over the sorted ``key=sha256(value)`` lines of a Secret's (decoded) data."""
    lines = "\n".join(f"{k}={value_digest(v)}" for k, v in sorted(data.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def decoded_content_hash(encoded: Mapping[str, str] | None) -> str:
    """:func:`content_hash` of a Secret's ``data`` as the API returns it (base64 values)."""
    return content_hash(
        {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (encoded or {}).items()}
    )


def template_stamp(referenced: Iterable[str], secret_hashes: Mapping[str, str]) -> str:
    """The stamp of a pod template that references ``referenced`` Secrets.

    ``secret_hashes`` maps existing Secrets to their content hash; a referenced Secret that
    does not exist (an optional one) does not count.
    """
    present = {
        name: secret_hashes[name] for name in sorted(set(referenced)) if name in secret_hashes
    }
    if not present:
        return NO_SECRETS
    return hashlib.sha256(json.dumps(present, sort_keys=True).encode()).hexdigest()[:32]
