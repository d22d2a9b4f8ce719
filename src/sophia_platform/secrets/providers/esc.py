"""esc: Pulumi ESC over its REST API — resolved reads, and every write in ONE PATCH.

Reading values opens a session and reads it (imports and expressions resolved, secrets
decrypted). Planning reads the definition (its ETag) and the decrypted definition (to compare
digests). Applying edits the definition we read — a ruamel round-trip, so keys we do not
manage, ``imports`` and comments are kept — and sends it in one ``PATCH`` with ``If-Match``:
if anyone changed the environment since the plan, ESC answers 409/412 and nothing is written.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from sophia_platform.config import SecretValue
from sophia_platform.config.esc_api import ConflictError, EscClient, EscRef, base_url_from_backend
from sophia_platform.config.http import RetryPolicy
from sophia_platform.errors import ExternalError, UsageError
from sophia_platform.secrets.digest import value_digest
from sophia_platform.secrets.providers.base import (
    ApplyResult,
    Presence,
    Provider,
    ProviderContext,
    Snapshot,
    TargetState,
    option,
    parse_options,
    presence_from_values,
)

if TYPE_CHECKING:
    from sophia_platform.secrets.plan import SyncPlan

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SECRET_FN = "fn::secret"
# Top-level keys of ``values`` with a meaning of their own in ESC; never treated as secrets.
RESERVED = frozenset({"environmentVariables", "files", "pulumiConfig"})
# A CLI sync may wait longer than an app's startup (the config layer's policy).
SYNC_POLICY = RetryPolicy(
    attempts=5, request_timeout=30.0, connect_timeout=10.0, backoff=0.5, max_backoff=8.0
)


def _token(ctx: ProviderContext) -> str | None:
    return ctx.environ.get("PULUMI_ACCESS_TOKEN") or None


@dataclass(frozen=True)
class EscOptions:
    """Which ESC environment, where the service is and how to retry (the token is in $env)."""

    esc_environment: str | None = None  # org/project/env; default: environments.<env>.esc
    esc_url: str = option("https://api.pulumi.com", env="PULUMI_BACKEND_URL")
    esc_policy: RetryPolicy = SYNC_POLICY
    transport: httpx.BaseTransport | None = None  # tests: a transport to a local server


class EscProvider(Provider):
    """One ESC environment (``environments.<env>.esc`` = ``org/project/env``)."""

    kind: ClassVar[str] = "esc"
    Options = EscOptions
    options: EscOptions
    flow_order: ClassVar[int | None] = 2
    sync_to: ClassVar[frozenset[str]] = frozenset({"kubernetes", "local"})

    @classmethod
    def configured(cls, ctx: ProviderContext) -> bool:
        """The environment names an ESC environment and a Pulumi token is set."""
        opts = parse_options(EscOptions, ctx)
        return bool((opts.esc_environment or ctx.environment.esc) and _token(ctx))

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        ref = self.options.esc_environment or ctx.environment.esc
        if not ref:
            raise UsageError(
                f"environment {ctx.env_name!r} has no ESC environment",
                hint=f"set environments.{ctx.env_name}.esc: org/project/env in sophia.yaml",
            )
        self.ref = str(ref)
        try:
            self.esc_ref = EscRef.parse(self.ref)
        except ValueError as exc:
            raise UsageError(f"environments.{ctx.env_name}.esc: {exc}") from None
        token = _token(ctx)
        if not token:
            raise UsageError("PULUMI_ACCESS_TOKEN is not set; export a Pulumi access token")
        self.client = EscClient(
            base_url_from_backend(self.options.esc_url),
            token,
            self.options.esc_policy,
            env_source=f"environments.{ctx.env_name}.esc in sophia.yaml",
            user_agent="sophia-platform-secrets",
            transport=self.options.transport,
        )

    def request_count(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    # -- reading resolved values --------------------------------------------------------------
    def resolved(self) -> dict[str, Any]:
        """Open the environment and return its resolved properties as plain data."""
        properties = self.client.open_and_read(self.esc_ref)
        return {k: _plain(v) for k, v in properties.items()}

    def read(self) -> Snapshot:
        """Managed values by NAME; other top-level string values as unmanaged."""
        data = self.resolved()
        values: dict[str, SecretValue] = {}
        for name, entry in self.ctx.manifest.entries.items():
            leaf = _get(data, entry.esc)
            if leaf is not None:
                values[name] = SecretValue(_text(leaf))
        managed = set(self.ctx.manifest.by_esc())
        unmanaged = {
            key: SecretValue(_text(value))
            for key, value in data.items()
            if key not in managed and key not in RESERVED and _is_scalar(value)
        }
        return Snapshot(values, unmanaged)

    def inventory(self) -> dict[str, Presence]:
        """Presence and digest of every managed secret, dated by the latest revision."""
        snapshot = self.read()
        rows = presence_from_values(
            snapshot.values, {e.name: f"values.{e.esc}" for e in self.ctx.manifest.entries.values()}
        )
        updated = self.latest_revision_time()
        return {
            name: Presence(
                row.status, row.digest, updated if row.status != "missing" else None, row.where
            )
            for name, row in rows.items()
        }

    def latest_revision_time(self) -> datetime | None:
        """When the environment was last changed (from ``GET …/versions``)."""
        times = [r.get("created") for r in self.client.versions(self.esc_ref)]
        parsed = [_parse_time(t) for t in times if isinstance(t, str)]
        return max((p for p in parsed if p is not None), default=None)

    # -- planning and writing ----------------------------------------------------------------
    def desired(self, snapshot: Snapshot, *, include_unmanaged: bool) -> dict[str, SecretValue]:
        """ESC path -> value."""
        out = {self.ctx.manifest.entries[n].esc: v for n, v in snapshot.values.items()}
        if include_unmanaged:
            for key, value in snapshot.unmanaged.items():
                out.setdefault(key.lower(), value)
        return out

    def state(self) -> TargetState:
        """The definition's ETag and the digest of every literal leaf, from the decrypted copy."""
        definition, etag = self.client.definition(self.esc_ref)
        decrypted = _load(self.client.decrypted(self.esc_ref))
        values = decrypted.get("values") if isinstance(decrypted, Mapping) else None
        digests: dict[str, str | None] = {}
        for path, leaf in _leaves(values if isinstance(values, Mapping) else {}):
            literal = _literal(leaf)
            digests[path] = value_digest(literal) if literal is not None else None
        managed = set(self.ctx.manifest.by_esc())
        return TargetState(
            digests=digests,
            prunable=managed & set(digests),
            revision=etag,
            extra={"definition": definition},
        )

    def apply(
        self, plan: SyncPlan, desired: dict[str, SecretValue], state: TargetState
    ) -> ApplyResult:
        """Edit the definition read at plan time and PATCH it once, guarded by If-Match."""
        changes = plan.changes
        if not changes:
            return ApplyResult(0, 0, 0)
        definition = str(state.extra.get("definition") or "")
        # Comments are only kept by a (slow) round-trip parse; a definition without any is
        # edited through libyaml, which keeps key order and values but not quoting style.
        round_trip = "#" in definition
        doc = (_yaml().load(definition) if round_trip else _load(definition)) or {}
        if not isinstance(doc, dict):
            raise ExternalError(f"Pulumi ESC: the definition of {self.ref} is not a mapping")
        values = doc.get("values")
        if not isinstance(values, dict):
            values = CommentedMap() if round_trip else {}
            doc["values"] = values
        written = removed = 0
        for entry in changes:
            if entry.action == "remove":
                removed += _delete(values, entry.address)
            else:
                _set(values, entry.address, {SECRET_FN: desired[entry.address].reveal()})
                written += 1
        body = _dump_round_trip(doc) if round_trip else _dump_fast(doc)
        before = self.client.requests
        try:
            self.client.patch(self.esc_ref, body, if_match=plan.revision)
        except ConflictError as exc:
            raise ConflictError(
                f"the ESC environment {self.ref} changed since the plan was made; nothing was "
                "written — re-run the sync to plan against the new revision"
            ) from exc
        return ApplyResult(written, removed, self.client.requests - before)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, order and quoting of what we do not touch
    yaml.width = 4096
    return yaml


def _dump_round_trip(doc: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(doc, buffer)
    return buffer.getvalue()


def _dump_fast(doc: Any) -> str:
    return str(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096))


def _load(text: str) -> Any:
    """Parse YAML we only read (libyaml: ~10x faster than a pure-Python parser)."""
    return yaml.load(text, Loader=_Loader) if text.strip() else {}


def _plain(value: Any) -> Any:
    """Strip ESC's ``{value, secret, trace}`` wrappers, recursively."""
    inner = value.get("value") if isinstance(value, Mapping) else value
    if isinstance(inner, Mapping):
        return {k: _plain(v) for k, v in inner.items()}
    if isinstance(inner, list):
        return [_plain(v) for v in inner]
    return inner


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _set(values: dict[str, Any], path: str, leaf: dict[str, Any]) -> None:
    parts = path.split(".")
    node = values
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict) or any(str(k).startswith("fn::") for k in child):
            child = type(values)()
            node[part] = child
        node = child
    node[parts[-1]] = type(values)(leaf)


def _delete(values: dict[str, Any], path: str) -> int:
    parts = path.split(".")
    node: Any = values
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, Mapping) else None
    if isinstance(node, dict) and parts[-1] in node:
        del node[parts[-1]]
        return 1
    return 0


def _leaves(values: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, leaf) for literal leaves; a ``fn::secret`` mapping counts as a leaf."""
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        if not prefix and key in RESERVED:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and not any(str(k).startswith("fn::") for k in value):
            out.extend(_leaves(value, path + "."))
        else:
            out.append((path, value))
    return out


def _literal(leaf: Any) -> str | None:
    """The plaintext of a literal or decrypted ``fn::secret`` leaf; None for expressions."""
    if isinstance(leaf, Mapping):
        inner = leaf.get(SECRET_FN) if len(leaf) == 1 else None
        return inner if isinstance(inner, str) else None
    if isinstance(leaf, str):
        return None if "${" in leaf else leaf
    if isinstance(leaf, (int, float, bool)):
        return _text(leaf)
    return None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
