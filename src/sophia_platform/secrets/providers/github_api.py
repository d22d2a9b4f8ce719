"""github-api: GitHub Actions secrets through the REST API (names, dates; sealed-box writes).

The API lists names and dates and accepts new values encrypted with the org's or repo's
libsodium public key (a sealed box). It can never return a value, so this provider is a target
(seeding, rotation) and an inventory for ``check``/``trace``, never a sync source.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import httpx
from nacl.public import PublicKey, SealedBox

from sophia_platform.config import SecretValue
from sophia_platform.config.http import HttpClient, RetryPolicy
from sophia_platform.errors import ExternalError, SophiaError, UsageError
from sophia_platform.secrets.providers.base import (
    ApplyResult,
    Presence,
    Provider,
    ProviderContext,
    Snapshot,
    TargetState,
)

if TYPE_CHECKING:
    from sophia_platform.secrets.plan import SyncPlan

API_VERSION = "2022-11-28"
PAGE_SIZE = 100
POLICY = RetryPolicy(
    attempts=5, request_timeout=30.0, connect_timeout=10.0, backoff=0.5, max_backoff=8.0
)


class GithubApiProvider(Provider):
    """Org-level (``--github-org``) or repo-level (``--github-repo owner/name``) secrets."""

    kind: ClassVar[str] = "github-api"

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        env = ctx.environ
        self.org: str | None = ctx.option("github_org") or env.get("SOPHIA_GITHUB_ORG")
        self.repo: str | None = None
        if not self.org:
            self.repo = ctx.option("github_repo") or env.get("GITHUB_REPOSITORY")
        if not self.org and not self.repo:
            raise UsageError(
                "no GitHub org or repository given",
                hint="pass --github-org ORG or --github-repo OWNER/NAME (or set SOPHIA_GITHUB_ORG)",
            )
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        if not token:
            raise UsageError("GITHUB_TOKEN is not set; export a token that may manage secrets")
        self.prefix = f"/orgs/{self.org}" if self.org else f"/repos/{self.repo}"
        self.http = HttpClient(
            ctx.option("github_api_url") or env.get("GITHUB_API_URL", "https://api.github.com"),
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            service="GitHub",
            policy=POLICY,
            on_error=self._on_error,
            transport=ctx.option("transport"),
        )

    def request_count(self) -> int:
        """HTTP requests made so far."""
        return self.http.requests

    # -- errors ---------------------------------------------------------------------------
    def _on_error(self, response: httpx.Response, where: str) -> SophiaError | None:
        if response.status_code == 403:
            if response.headers.get("x-ratelimit-remaining") == "0":
                reset = response.headers.get("x-ratelimit-reset", "?")
                return ExternalError(f"{where}: rate limit exhausted; retry after epoch {reset}")
            scope = (
                "admin:org (classic token) or 'Organization secrets: read and write' "
                "(fine-grained token)"
                if self.org
                else "repo (classic token) or 'Secrets: read and write' (fine-grained token)"
            )
            return ExternalError(f"{where}: forbidden (403); the token needs the {scope} scope")
        return None

    # -- reading ---------------------------------------------------------------------------
    def read(self) -> Snapshot:
        """Refuse: GitHub's API never returns secret values."""
        raise UsageError(
            "GitHub's API never returns secret values",
            hint="sync from GitHub inside a workflow run: --from github-actions "
            "(see 'sophia secrets workflow')",
        )

    def list_secrets(self) -> dict[str, datetime | None]:
        """Every secret name (upper case) with its update time, following pagination."""
        found: dict[str, datetime | None] = {}
        url: str | None = f"{self.prefix}/actions/secrets?per_page={PAGE_SIZE}"
        while url:
            response = self.http.request("GET", url)
            body = response.json()
            for item in body.get("secrets", []):
                found[str(item["name"]).upper()] = _parse_time(item.get("updated_at"))
            url = response.links.get("next", {}).get("url")
        return found

    def inventory(self) -> dict[str, Presence]:
        """Names present in GitHub and when they were updated; values are unknowable."""
        listed = self.list_secrets()
        rows: dict[str, Presence] = {}
        for entry in self.ctx.manifest.entries.values():
            key = entry.github.upper()
            if key in listed:
                rows[entry.name] = Presence("present", None, listed[key], key)
            else:
                rows[entry.name] = Presence("missing", None, None, key)
        return rows

    # -- writing -----------------------------------------------------------------------------
    def desired(self, snapshot: Snapshot, *, include_unmanaged: bool) -> dict[str, SecretValue]:
        """GitHub secret name -> value."""
        out = {self.ctx.manifest.entries[n].github.upper(): v for n, v in snapshot.values.items()}
        if include_unmanaged:
            out.update({k.upper(): v for k, v in snapshot.unmanaged.items()})
        return out

    def state(self) -> TargetState:
        """Present names; digests are unknowable, so a present secret is always re-written."""
        listed = self.list_secrets()
        managed = {e.github.upper() for e in self.ctx.manifest.entries.values()}
        return TargetState(digests=dict.fromkeys(listed), prunable=managed & set(listed))

    def apply(
        self, plan: SyncPlan, desired: dict[str, SecretValue], state: TargetState
    ) -> ApplyResult:
        """Encrypt each value with the public key (sealed box) and PUT it; DELETE pruned ones."""
        changes = plan.changes
        if not changes:
            return ApplyResult(0, 0, 0)
        before = self.http.requests
        key = self.http.request("GET", f"{self.prefix}/actions/secrets/public-key").json()
        box = SealedBox(PublicKey(base64.b64decode(key["key"])))
        written = removed = 0
        for entry in changes:
            path = f"{self.prefix}/actions/secrets/{entry.address}"
            if entry.action == "remove":
                self.http.request("DELETE", path, ok=(204,), idempotent=True)
                removed += 1
                continue
            sealed = box.encrypt(desired[entry.address].reveal().encode("utf-8"))
            body: dict[str, str] = {
                "encrypted_value": base64.b64encode(sealed).decode("ascii"),
                "key_id": str(key["key_id"]),
            }
            if self.org:
                body["visibility"] = str(self.ctx.option("github_visibility", "private"))
            # PUT sets the value: sending it twice leaves the same secret, so it may be retried.
            self.http.request("PUT", path, json=body, ok=(201, 204), idempotent=True)
            written += 1
        return ApplyResult(written, removed, self.http.requests - before)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
