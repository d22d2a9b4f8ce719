"""github-api: GitHub Actions secrets through the REST API (names, dates; sealed-box writes).

The API lists names and dates and accepts new values encrypted with the org's or repo's
libsodium public key (a sealed box). It can never return a value, so this provider is a target
(seeding, rotation) and an inventory for ``check``/``trace``, never a sync source.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
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
    option,
    parse_options,
)

if TYPE_CHECKING:
    from sophia_platform.secrets.plan import SyncPlan

API_VERSION = "2022-11-28"
PAGE_SIZE = 100
POLICY = RetryPolicy(
    attempts=5, request_timeout=30.0, connect_timeout=10.0, backoff=0.5, max_backoff=8.0
)


@dataclass(frozen=True)
class GithubApiOptions:
    """Which org or repository, and how to reach the API."""

    github_org: str | None = option(env="SOPHIA_GITHUB_ORG")
    github_repo: str | None = None  # OWNER/NAME; $GITHUB_REPOSITORY when neither is given
    github_api_url: str = option("https://api.github.com", env="GITHUB_API_URL")
    github_visibility: str = "private"  # of org secrets written
    transport: httpx.BaseTransport | None = None  # tests: a transport to a local server


def _token(ctx: ProviderContext) -> str | None:
    return ctx.environ.get("GITHUB_TOKEN") or ctx.environ.get("GH_TOKEN")


class GithubApiProvider(Provider):
    """Org-level (``--github-org``) or repo-level (``--github-repo owner/name``) secrets."""

    kind: ClassVar[str] = "github-api"
    Options = GithubApiOptions
    options: GithubApiOptions
    flow_order: ClassVar[int | None] = 1
    settable: ClassVar[bool] = True

    @classmethod
    def configured(cls, ctx: ProviderContext) -> bool:
        """An org or repository is named and a token is set."""
        opts = parse_options(GithubApiOptions, ctx)
        return bool((opts.github_org or opts.github_repo) and _token(ctx))

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        env = ctx.environ
        self.org: str | None = self.options.github_org
        self.repo: str | None = None
        if not self.org:
            self.repo = self.options.github_repo or env.get("GITHUB_REPOSITORY")
        if not self.org and not self.repo:
            raise UsageError(
                "no GitHub org or repository given",
                hint="pass --github-org ORG or --github-repo OWNER/NAME (or set SOPHIA_GITHUB_ORG)",
            )
        token = _token(ctx)
        if not token:
            raise UsageError("GITHUB_TOKEN is not set; export a token that may manage secrets")
        self.prefix = f"/orgs/{self.org}" if self.org else f"/repos/{self.repo}"
        self.http = HttpClient(
            self.options.github_api_url,
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            service="GitHub",
            policy=POLICY,
            on_error=self._on_error,
            transport=self.options.transport,
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
        sealer = self._sealer()
        written = removed = 0
        for entry in changes:
            if entry.action == "remove":
                path = f"{self.prefix}/actions/secrets/{entry.address}"
                self.http.request("DELETE", path, ok=(204,), idempotent=True)
                removed += 1
                continue
            self._put(sealer, entry.address, desired[entry.address])
            written += 1
        return ApplyResult(written, removed, self.http.requests - before)

    def set_value(self, name: str, value: SecretValue) -> bool:
        """Seal and PUT one secret (GitHub cannot say whether it changed: always True)."""
        managed = name in self.ctx.manifest.entries
        snapshot = Snapshot({name: value} if managed else {}, {} if managed else {name: value})
        ((address, sealed_value),) = self.desired(snapshot, include_unmanaged=True).items()
        self._put(self._sealer(), address, sealed_value)
        return True

    def _sealer(self) -> tuple[SealedBox[PublicKey], str]:
        key = self.http.request("GET", f"{self.prefix}/actions/secrets/public-key").json()
        return SealedBox(PublicKey(base64.b64decode(key["key"]))), str(key["key_id"])

    def _put(
        self, sealer: tuple[SealedBox[PublicKey], str], address: str, value: SecretValue
    ) -> None:
        box, key_id = sealer
        sealed = box.encrypt(value.reveal().encode("utf-8"))
        body = {"encrypted_value": base64.b64encode(sealed).decode("ascii"), "key_id": key_id}
        if self.org:
            body["visibility"] = self.options.github_visibility
        # PUT sets the value: sending it twice leaves the same secret, so it may be retried.
        path = f"{self.prefix}/actions/secrets/{address}"
        self.http.request("PUT", path, json=body, ok=(201, 204), idempotent=True)

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
