"""The one SSH transport of the cluster bootstrap (asyncssh), with host keys pinned.

Why asyncssh: every step of a bootstrap fans out to all hosts (preflight, agent joins), and
asyncssh runs those sessions concurrently on one event loop without a thread per host; it has
a known_hosts API (pinned keys passed in as trusted keys, fingerprints, first-contact key
fetch) and SFTP built in, and it ships type hints. Paramiko would need a thread pool and its
own known_hosts handling around a blocking client.

Rules kept here for every caller:
- Host keys are pinned in one ``known_hosts`` file (next to ``sophia.yaml``). An unknown host
  is contacted only with ``accept_new`` (its fingerprint is reported to the caller); a host
  whose key differs from the pinned one is refused, naming the host and the fingerprint seen.
- Commands are argv lists, quoted here (``shlex.join``); privileged ones run as
  ``sudo -n`` (never a password prompt: no pty and ``-n``), and every command has a timeout.
- Secrets travel on stdin or come back on stdout into a :class:`SecretValue`: never argv.
- A key passphrase comes from ``$SOPHIA_SSH_KEY_PASSPHRASE`` (never the spec or argv).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.cluster.inventory import ClusterNode
from sophia_platform.cluster.sshlib import asyncssh
from sophia_platform.config import SecretValue
from sophia_platform.errors import ExternalError

CONNECT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 120.0
PASSPHRASE_ENV = "SOPHIA_SSH_KEY_PASSPHRASE"


class SshError(ExternalError):
    """A host could not be reached, refused us, or a command on it failed (exit 3)."""

    def __init__(self, node: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{node}: {message}", hint=hint)
        self.node = node


class HostKeyChanged(SshError):
    """The host presented a key other than the pinned one."""


class HostKeyUnknown(SshError):
    """No key is pinned for the host and first contact was not allowed."""


@dataclass(frozen=True)
class Completed:
    """A finished remote command (stdout/stderr as text)."""

    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True on exit status 0."""
        return self.exit_status == 0


def host_pattern(host: str, port: int) -> str:
    """The known_hosts host field: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass
class KnownHosts:
    """The pinned host keys: one OpenSSH known_hosts file, appended to on first contact."""

    path: Path
    accept_new: bool = False
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (node, fingerprint)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def trusted(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        """Keys pinned for host:port (hashed and pattern entries understood)."""
        if not self.path.is_file():
            return []
        known = asyncssh.import_known_hosts(self.path.read_text(encoding="utf-8"))
        return list(known.match(host, "", port)[0])

    async def pin(self, node: str, host: str, port: int, key: asyncssh.SSHKey) -> None:
        """Append ``key`` for host:port (atomic rewrite) and remember its fingerprint."""
        async with self._lock:
            old = self.path.read_text(encoding="utf-8") if self.path.is_file() else ""
            line = f"{host_pattern(host, port)} {key.export_public_key().decode().strip()}"
            text = old + ("" if not old or old.endswith("\n") else "\n") + line + "\n"
            write_text_atomic(self.path, text, mode=0o644, parents=True)
            self.accepted.append((node, key.get_fingerprint("sha256")))


class Session:
    """One authenticated connection to one node."""

    def __init__(self, node: ClusterNode, conn: asyncssh.SSHClientConnection) -> None:
        self.node = node
        self._conn = conn

    def command(self, argv: Sequence[str], privileged: bool = False) -> str:
        """The shell command line of ``argv`` (``sudo -n --`` first where privilege needs it)."""
        command = shlex.join(argv)
        if privileged and self.node.privilege == "sudo":
            return f"sudo -n -- {command}"
        return command

    async def run(
        self,
        argv: Sequence[str],
        *,
        privileged: bool = False,
        stdin: str | bytes | None = None,
        timeout: float = COMMAND_TIMEOUT_S,
        check: bool = True,
        what: str | None = None,
    ) -> Completed:
        """Run ``argv`` on the node; ``check`` raises SshError naming the last stderr line."""
        command = self.command(argv, privileged)
        data = stdin.decode() if isinstance(stdin, bytes) else stdin
        try:
            result = await self._conn.run(command, input=data, check=False, timeout=timeout)
        except asyncssh.TimeoutError as e:
            raise SshError(
                self.node.name, f"{what or argv[0]} timed out after {timeout:.0f}s"
            ) from e
        except (asyncssh.Error, OSError) as e:
            raise SshError(self.node.name, f"{what or argv[0]}: connection failed ({e})") from e
        done = Completed(
            int(result.exit_status if result.exit_status is not None else 255),
            _text(result.stdout),
            _text(result.stderr),
        )
        if check and not done.ok:
            raise SshError(
                self.node.name,
                f"{what or argv[0]} failed (exit {done.exit_status}): {_last_line(done)}",
                hint=_sudo_hint(self.node, done),
            )
        return done

    async def script(
        self, text: str, *, privileged: bool = False, stdin: str | None = None, **kw: Any
    ) -> Completed:
        """Run a fixed POSIX sh script (never holding a secret) with ``sh -c``."""
        return await self.run(["sh", "-c", text], privileged=privileged, stdin=stdin, **kw)

    async def read_file(self, path: str, *, privileged: bool = True) -> str | None:
        """A remote file's content, or None if it does not exist."""
        done = await self.run(
            ["sh", "-c", 'if [ -f "$1" ]; then cat -- "$1"; else exit 3; fi', "sh", path],
            privileged=privileged,
            check=False,
            what=f"read {path}",
        )
        if done.exit_status == 3:
            return None
        if not done.ok:
            raise SshError(self.node.name, f"read {path} failed: {_last_line(done)}")
        return done.stdout

    async def read_secret(self, path: str) -> SecretValue:
        """A remote secret file straight into a SecretValue (never logged or printed)."""
        text = await self.read_file(path)
        if text is None or not text.strip():
            raise SshError(self.node.name, f"{path} is missing or empty")
        return SecretValue(text.strip())

    async def write_file(self, path: str, content: str, *, mode: str = "0600") -> None:
        """Replace a remote file atomically (temp + rename) from stdin, with ``mode``."""
        await self.run(
            [
                "sh",
                "-c",
                'set -e; umask 077; mkdir -p "$(dirname "$1")"; t="$1.sophia-new"; '
                'cat > "$t"; chmod "$2" "$t"; mv -f "$t" "$1"',
                "sh",
                path,
                mode,
            ],
            privileged=True,
            stdin=content,
            what=f"write {path}",
        )

    async def put(self, local: Path, remote: str, *, mode: str = "0755") -> None:
        """Upload a file over SFTP (to the user's temp dir, then moved into place privileged)."""
        staging = f"/tmp/.sophia-upload-{self.node.name}-{secrets.token_hex(6)}-{local.name}"
        try:
            async with self._conn.start_sftp_client() as sftp:
                await sftp.put(str(local), staging)
        except (asyncssh.Error, OSError) as e:
            raise SshError(self.node.name, f"SFTP upload of {local.name} failed ({e})") from e
        await self.run(
            [
                "sh",
                "-c",
                'set -e; mkdir -p "$(dirname "$2")"; install -m "$3" "$1" "$2"; rm -f "$1"',
                "sh",
                staging,
                remote,
                mode,
            ],
            privileged=True,
            what=f"install {remote}",
        )

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class Transport:
    """Opens sessions to nodes with the pinned host keys."""

    def __init__(
        self,
        known_hosts: KnownHosts,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.known_hosts = known_hosts
        self.connect_timeout = connect_timeout
        self._environ = dict(os.environ if environ is None else environ)

    async def connect(self, node: ClusterNode) -> Session:
        """Connect and authenticate; host key checked against the pinned one."""
        trusted = self.known_hosts.trusted(node.host, node.port)
        if not trusted:
            if not self.known_hosts.accept_new:
                raise HostKeyUnknown(
                    node.name,
                    f"no host key pinned for {host_pattern(node.host, node.port)} in "
                    f"{self.known_hosts.path}",
                    hint="check the host, then re-run with --accept-new-host-keys "
                    "(prints each fingerprint) and commit known_hosts",
                )
            key = await self._fetch_key(node)
            await self.known_hosts.pin(node.name, node.host, node.port, key)
            trusted = [key]
        try:
            conn = await asyncio.wait_for(
                asyncssh.connect(
                    node.host,
                    node.port,
                    username=node.user,
                    known_hosts=(trusted, [], []),
                    client_keys=[str(node.key)] if node.key else (),
                    passphrase=self._environ.get(PASSPHRASE_ENV) or None,
                    config=None,
                    connect_timeout=self.connect_timeout,
                    login_timeout=self.connect_timeout,
                    keepalive_interval=15,
                ),
                timeout=self.connect_timeout * 2,
            )
        except asyncssh.HostKeyNotVerifiable as e:
            seen = await self._fingerprint_seen(node)
            pinned = ", ".join(k.get_fingerprint("sha256") for k in trusted)
            raise HostKeyChanged(
                node.name,
                f"host key of {host_pattern(node.host, node.port)} CHANGED: it presented "
                f"{seen}, {self.known_hosts.path} pins {pinned}; refusing to connect",
                hint="if the machine was really reinstalled, remove its line from known_hosts "
                "and re-run with --accept-new-host-keys",
            ) from e
        except asyncssh.PermissionDenied as e:
            raise SshError(
                node.name,
                f"{node.where} refused our key",
                hint="check the node's user/key in sophia.yaml and its authorized_keys",
            ) from e
        except TimeoutError as e:
            raise SshError(node.name, f"{node.where}: connection timed out") from e
        except (asyncssh.Error, OSError) as e:
            raise SshError(node.name, f"{node.where} unreachable ({_reason(e)})") from e
        return Session(node, conn)

    async def _fetch_key(self, node: ClusterNode) -> asyncssh.SSHKey:
        try:
            key = await asyncio.wait_for(
                asyncssh.get_server_host_key(node.host, node.port, config=None),
                timeout=self.connect_timeout,
            )
        except (asyncssh.Error, OSError, TimeoutError) as e:
            raise SshError(node.name, f"{node.where} unreachable ({_reason(e)})") from e
        if key is None:
            raise SshError(node.name, f"{node.where} presented no host key")
        return key

    async def _fingerprint_seen(self, node: ClusterNode) -> str:
        try:
            key = await self._fetch_key(node)
        except SshError:
            return "(unreadable)"
        return key.get_fingerprint("sha256")


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:160]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def last_line(text: str, default: str = "(no output)") -> str:
    """The last non-blank line of ``text`` (cut to 300 characters), for one-line errors."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else default


def _last_line(done: Completed) -> str:
    return last_line(done.stderr or done.stdout)


def _sudo_hint(node: ClusterNode, done: Completed) -> str | None:
    text = done.stderr.lower()
    if node.privilege == "sudo" and ("password is required" in text or "a terminal" in text):
        return (
            f"{node.user} needs passwordless sudo on {node.name} "
            f"(e.g. '{node.user} ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d/), "
            "or connect as root (privilege: root)"
        )
    return None
