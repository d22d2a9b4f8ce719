"""local: the embedded encrypted store for development and the demo.

One Fernet-encrypted file per environment (authenticated encryption) under the repo's ignored
state dir ``.sophia/secrets/<env>.fernet``. The key comes from ``$SOPHIA_SECRETS_KEY`` or from
a key file of mode 0600 (``$SOPHIA_SECRETS_KEY_FILE``, default
``$XDG_CONFIG_HOME/sophia/secrets.key``), created on first write. Writes are atomic.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from cryptography.fernet import Fernet, InvalidToken

from sophia_platform.atomicfile import write_atomic
from sophia_platform.config import SecretValue
from sophia_platform.errors import InputError
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

FORMAT_VERSION = 1


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600 (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, data, mode=0o600)


@dataclass(frozen=True)
class LocalOptions:
    """Where the store lives (its key comes from $SOPHIA_SECRETS_KEY or the key file)."""

    local_dir: str | None = option(env="SOPHIA_LOCAL_SECRETS_DIR")  # default: .sophia/secrets


def _store(ctx: ProviderContext, opts: LocalOptions) -> Path:
    return _store_path(ctx.root, ctx.env_name, opts.local_dir)


def _store_path(root: Path, env_name: str, local_dir: str | None) -> Path:
    return Path(local_dir or root / ".sophia" / "secrets") / f"{env_name}.fernet"


class LocalStore:
    """One environment's encrypted file and the key that opens it (no spec needed)."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        config_home = Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.key_file = Path(
            environ.get("SOPHIA_SECRETS_KEY_FILE") or config_home / "sophia" / "secrets.key"
        )
        self._env_key = environ.get("SOPHIA_SECRETS_KEY")

    @classmethod
    def of(cls, root: Path, env_name: str, environ: Mapping[str, str]) -> LocalStore:
        """The store of ``env_name`` in the repo at ``root`` ($SOPHIA_LOCAL_SECRETS_DIR too)."""
        local_dir = environ.get("SOPHIA_LOCAL_SECRETS_DIR") or None
        return cls(_store_path(root, env_name, local_dir), environ)

    def _fernet(self, *, create: bool) -> Fernet | None:
        if self._env_key:
            try:
                return Fernet(self._env_key.encode())
            except ValueError:
                raise InputError(
                    "$SOPHIA_SECRETS_KEY is not a Fernet key (32 url-safe base64 bytes)"
                ) from None
        if self.key_file.exists():
            mode = stat.S_IMODE(self.key_file.stat().st_mode)
            if mode & 0o077:
                raise InputError(
                    f"{self.key_file} is readable by others (mode {mode:o})",
                    hint=f"chmod 600 {self.key_file}",
                )
            try:
                return Fernet(self.key_file.read_bytes().strip())
            except ValueError:
                raise InputError(f"{self.key_file} does not hold a Fernet key") from None
        if not create:
            return None
        key = Fernet.generate_key()
        write_private(self.key_file, key + b"\n")
        return Fernet(key)

    def load(self) -> dict[str, SecretValue]:
        """Every stored secret (NAME -> value); empty if the store does not exist yet."""
        if not self.path.exists():
            return {}
        fernet = self._fernet(create=False)
        if fernet is None:
            raise InputError(
                f"{self.path} exists but no key was found",
                hint="set $SOPHIA_SECRETS_KEY or $SOPHIA_SECRETS_KEY_FILE",
            )
        try:
            payload = json.loads(fernet.decrypt(self.path.read_bytes()))
        except InvalidToken:
            raise InputError(
                f"{self.path} cannot be decrypted with this key (wrong key or tampered file)"
            ) from None
        secrets = payload.get("secrets", {}) if isinstance(payload, dict) else {}
        return {str(k): SecretValue(str(v)) for k, v in secrets.items()}

    def save(self, values: dict[str, SecretValue]) -> None:
        """Encrypt and atomically replace the store."""
        fernet = self._fernet(create=True)
        assert fernet is not None  # create=True always yields a key
        plain = {
            "version": FORMAT_VERSION,
            "secrets": {k: v.reveal() for k, v in sorted(values.items())},
        }
        write_private(self.path, fernet.encrypt(json.dumps(plain).encode("utf-8")))

    def set_value(self, name: str, value: SecretValue) -> bool:
        """Store one secret; returns True if it changed."""
        values = self.load()
        old = values.get(name)
        if old is not None and old.reveal() == value.reveal():
            return False
        values[name] = value
        self.save(values)
        return True


class LocalProvider(Provider):
    """Source and target: the encrypted file of one environment."""

    kind: ClassVar[str] = "local"
    Options = LocalOptions
    options: LocalOptions
    flow_order: ClassVar[int | None] = 0
    sync_to: ClassVar[frozenset[str]] = frozenset({"kubernetes", "esc", "github-api"})
    settable: ClassVar[bool] = True

    @classmethod
    def configured(cls, ctx: ProviderContext) -> bool:
        """The environment's store file exists."""
        return _store(ctx, parse_options(LocalOptions, ctx)).exists()

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self.local = LocalStore(_store(ctx, self.options), ctx.environ)
        self.store, self.key_file = self.local.path, self.local.key_file

    def load(self) -> dict[str, SecretValue]:
        """Every stored secret (NAME -> value); empty if the store does not exist yet."""
        return self.local.load()

    def save(self, values: dict[str, SecretValue]) -> None:
        """Encrypt and atomically replace the store."""
        self.local.save(values)

    def set_value(self, name: str, value: SecretValue) -> bool:
        """Store one secret; returns True if it changed."""
        return self.local.set_value(name, value)

    # -- provider interface --------------------------------------------------------------------
    def read(self) -> Snapshot:
        """Managed values by NAME, the rest as unmanaged."""
        stored = self.load()
        managed = self.ctx.manifest.entries
        return Snapshot(
            {k: v for k, v in stored.items() if k in managed},
            {k: v for k, v in stored.items() if k not in managed},
        )

    def inventory(self) -> dict[str, Presence]:
        """Presence and digest of every managed secret."""
        return presence_from_values(
            self.load(), {n: f"local:{n}" for n in self.ctx.manifest.entries}
        )

    def desired(self, snapshot: Snapshot, *, include_unmanaged: bool) -> dict[str, SecretValue]:
        """NAME -> value."""
        out = dict(snapshot.values)
        if include_unmanaged:
            for key, value in snapshot.unmanaged.items():
                out.setdefault(key, value)
        return out

    def state(self) -> TargetState:
        """Digest of every stored secret."""
        stored = self.load()
        return TargetState(
            digests={k: value_digest(v.reveal()) for k, v in stored.items()},
            prunable=set(stored) & set(self.ctx.manifest.entries),
        )

    def apply(
        self, plan: SyncPlan, desired: dict[str, SecretValue], state: TargetState
    ) -> ApplyResult:
        """Rewrite the store once with every change."""
        changes = plan.changes
        if not changes:
            return ApplyResult(0, 0, 0)
        values = self.load()
        written = removed = 0
        for entry in changes:
            if entry.action == "remove":
                removed += values.pop(entry.address, None) is not None
            else:
                values[entry.address] = desired[entry.address]
                written += 1
        self.save(values)
        return ApplyResult(written, removed, 0)
