"""github-actions: secret values as a workflow run sees them, from ``toJSON(secrets)``.

GitHub never returns a secret value through its API; the only place values exist is inside a
workflow run, where ``env: ALL_SECRETS: ${{ toJSON(secrets) }}`` hands every secret to a step
as one JSON object. This provider reads that variable (name configurable), maps GitHub names to
the manifest's NAMEs and keeps the rest apart as unmanaged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from sophia_platform.config import SecretValue
from sophia_platform.errors import InputError
from sophia_platform.secrets.manifest import GITHUB_RUN_TOKEN
from sophia_platform.secrets.providers.base import Provider, Snapshot

DEFAULT_VARIABLE = "ALL_SECRETS"


@dataclass(frozen=True)
class GithubActionsOptions:
    """Where the workflow step put ``${{ toJSON(secrets) }}``."""

    secrets_env: str = DEFAULT_VARIABLE  # the variable's name, never its value


class GithubActionsProvider(Provider):
    """Source only: parses the ``toJSON(secrets)`` payload of the current workflow run."""

    kind: ClassVar[str] = "github-actions"
    Options = GithubActionsOptions
    options: GithubActionsOptions
    sync_to: ClassVar[frozenset[str]] = frozenset({"esc", "local"})

    def read(self) -> Snapshot:
        """Parse the payload; refuse anything but a JSON object of strings, naming no value."""
        variable = self.options.secrets_env
        raw = self.ctx.environ.get(variable)
        if raw is None:
            raise InputError(
                f"${variable} is not set",
                hint=f"run inside a workflow step with env {variable}: ${{{{ toJSON(secrets) }}}}",
            )
        try:
            payload = json.loads(raw)
        except ValueError:
            # ``from None``: the decode error carries the document, i.e. the secrets.
            raise InputError(
                f"${variable} is not valid JSON; pass ${{{{ toJSON(secrets) }}}} unmodified"
            ) from None
        if not isinstance(payload, dict):
            raise InputError(f"${variable} must be a JSON object of secret names to strings")
        bad = sorted(k for k, v in payload.items() if not isinstance(v, str))
        if bad:
            raise InputError(f"${variable}: values of {', '.join(bad)} are not strings")
        by_github = self.ctx.manifest.by_github()
        values: dict[str, SecretValue] = {}
        unmanaged: dict[str, SecretValue] = {}
        ignored: list[str] = []
        for key, value in payload.items():
            if key.lower() == GITHUB_RUN_TOKEN:
                ignored.append(key)
                continue
            name = by_github.get(key.upper())
            if name is None:
                unmanaged[key] = SecretValue(value)
            else:
                values[name] = SecretValue(value)
        return Snapshot(values=values, unmanaged=unmanaged, ignored=sorted(ignored))
