"""The definition side of the local ESC server: GET/HEAD/PATCH with ETag/If-Match, decrypt,
versions. Test-only; extends :mod:`tests.servers.esc` (open/read) by subclassing its handler.

Like the real service, the definition is stored as YAML text (comments kept) with secrets as
ciphertext — ``fn::secret: {ciphertext: ...}`` — on ``GET``, and as plaintext on ``GET
…/decrypt``. A ``PATCH`` may send either form (ciphertext of this environment is decrypted, a
plain string is a new secret). Every successful ``PATCH`` makes a new revision and a new ETag;
``If-Match`` with a stale ETag is ``409 Conflict`` and writes nothing.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from tests.servers.esc import SECRET_FN, EscEnvironment, EscError, EscHandler, EscServer, EscState

_CIPHER_PREFIX = b"esc-test-cipher:"
_ENV = r"/environments/([^/]+)/([^/]+)/([^/]+)"


def _rt() -> YAML:
    yaml = YAML()
    yaml.width = 4096
    return yaml


def _load(text: str) -> Any:
    """Round-trip parse (keeps comments) only when there are comments to keep: it is slow."""
    if "#" in text:
        return _rt().load(text)
    return pyyaml.load(text, Loader=getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader))


def _dump(doc: Any) -> str:
    if isinstance(doc, CommentedMap):
        buffer = io.StringIO()
        _rt().dump(doc, buffer)
        return buffer.getvalue()
    dumper = getattr(pyyaml, "CSafeDumper", pyyaml.SafeDumper)
    return str(pyyaml.dump(doc, Dumper=dumper, sort_keys=False, width=4096))


def _encrypt(env_ref: str, plain: str) -> str:
    # Not real crypto: reversible and bound to the environment, enough to prove the client
    # round-trips ciphertext it did not create without ever seeing the plaintext.
    return base64.b64encode(_CIPHER_PREFIX + env_ref.encode() + b"\0" + plain.encode()).decode()


def _decrypt(env_ref: str, cipher: str) -> str:
    try:
        raw = base64.b64decode(cipher, validate=True)
    except ValueError:
        raise EscError(400, "invalid ciphertext") from None
    prefix = _CIPHER_PREFIX + env_ref.encode() + b"\0"
    if not raw.startswith(prefix):
        raise EscError(400, "ciphertext belongs to another environment")
    return raw[len(prefix) :].decode()


def _walk_secrets(node: Any, fn: Any) -> None:
    """Call ``fn(mapping)`` for every ``{fn::secret: ...}`` mapping in a YAML tree."""
    if isinstance(node, dict):
        for value in node.values():
            if isinstance(value, dict) and list(value) == [SECRET_FN]:
                fn(value)
            else:
                _walk_secrets(value, fn)
    elif isinstance(node, list):
        for item in node:
            _walk_secrets(item, fn)


class DefinitionState(EscState):
    """Adds definition text, ETags and revision history to :class:`EscState`."""

    def __init__(self, tokens: set[str] | None = None) -> None:
        super().__init__(tokens)
        self.texts: dict[str, str] = {}  # env ref -> stored YAML (secrets as ciphertext)
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.patches: list[str] = []  # plaintext bodies received; tests assert on their number

    def add_environment(
        self, ref: str, values: dict[str, Any] | None = None, *, imports: list[str] | None = None
    ) -> EscEnvironment:
        env = super().add_environment(ref, values, imports=imports)
        with self.lock:
            self.texts[ref] = self._text_for(env)
            self.history[ref] = [self._revision(1)]
        return env

    def set_text(self, ref: str, text: str) -> EscEnvironment:
        """Replace a definition with YAML text (plaintext secrets allowed), like a PATCH."""
        org, project, name = ref.split("/")
        return self.store(self.environment(org, project, name), text)

    def etag(self, env: EscEnvironment) -> str:
        return '"' + hashlib.sha256(f"{env.ref}#{env.revision}".encode()).hexdigest()[:16] + '"'

    def _revision(self, number: int) -> dict[str, Any]:
        return {
            "number": number,
            "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "creatorLogin": "sophia-test",
            "creatorName": "Sophia Test",
            "tags": [],
        }

    def _text_for(self, env: EscEnvironment) -> str:
        doc = env.definition()
        _walk_secrets(
            doc, lambda m: m.update({SECRET_FN: {"ciphertext": _encrypt(env.ref, m[SECRET_FN])}})
        )
        return _dump(doc)

    def decrypted_text(self, env: EscEnvironment) -> str:
        doc = _load(self.texts[env.ref])

        def reveal(mapping: Any) -> None:
            inner = mapping[SECRET_FN]
            if isinstance(inner, dict) and "ciphertext" in inner:
                mapping[SECRET_FN] = _decrypt(env.ref, str(inner["ciphertext"]))

        _walk_secrets(doc, reveal)
        return _dump(doc)

    def store(self, env: EscEnvironment, text: str) -> EscEnvironment:
        """Validate a definition, store it encrypted and bump the revision."""
        try:
            doc = _load(text) if text.strip() else {}
        except YAMLError:
            raise EscError(400, "invalid YAML in environment definition") from None
        if not isinstance(doc, dict):
            raise EscError(400, "environment definition must be a mapping")
        unknown = set(doc) - {"imports", "values"}
        if unknown:
            raise EscError(400, f"unknown top-level key {sorted(unknown)[0]!r}")
        values = doc.get("values") or {}
        if not isinstance(values, dict):
            raise EscError(400, "values must be a mapping")

        def normalise(mapping: Any) -> None:
            inner = mapping[SECRET_FN]
            if isinstance(inner, dict) and "ciphertext" in inner:
                inner = _decrypt(env.ref, str(inner["ciphertext"]))
            if not isinstance(inner, str):
                raise EscError(400, "fn::secret takes a string")
            kind = CommentedMap if isinstance(mapping, CommentedMap) else dict
            mapping[SECRET_FN] = kind({"ciphertext": _encrypt(env.ref, inner)})

        _walk_secrets(doc, normalise)
        stored = _dump(doc)
        plain_values = _load(self._plain(env, stored)) or {}
        with self.lock:
            env.values = copy.deepcopy(plain_values.get("values") or {})
            env.imports = list(plain_values.get("imports") or [])
            env.revision += 1
            self.texts[env.ref] = stored
            self.history.setdefault(env.ref, []).append(self._revision(env.revision))
        return env

    def _plain(self, env: EscEnvironment, text: str) -> str:
        doc = pyyaml.load(text, Loader=getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)) or {}

        def reveal(mapping: Any) -> None:
            mapping[SECRET_FN] = _decrypt(env.ref, str(mapping[SECRET_FN]["ciphertext"]))

        _walk_secrets(doc, reveal)
        return str(pyyaml.safe_dump(doc, sort_keys=False))


class DefinitionHandler(EscHandler):
    """Adds the definition endpoints to the open/read handler."""

    state: ClassVar[DefinitionState]  # type: ignore[misc]
    routes: ClassVar[list[tuple[str, str, str, str]]] = [
        *EscHandler.routes,
        ("GET", _ENV + r"/decrypt", "decrypt", "handle_decrypt"),
        ("GET", _ENV + r"/versions", "versions", "handle_versions"),
        ("GET", _ENV, "get", "handle_get"),
        ("HEAD", _ENV, "head", "handle_head"),
        ("PATCH", _ENV, "patch", "handle_patch"),
    ]

    def send_yaml(self, text: str, headers: dict[str, str]) -> None:
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-yaml")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def handle_get(self, org: str, project: str, name: str) -> None:
        env = self.state.environment(org, project, name)
        with self.state.lock:
            text, etag = self.state.texts[env.ref], self.state.etag(env)
        self.send_yaml(text, {"ETag": etag})

    def handle_head(self, org: str, project: str, name: str) -> None:
        env = self.state.environment(org, project, name)
        self.send_response(200)
        self.send_header("ETag", self.state.etag(env))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def handle_decrypt(self, org: str, project: str, name: str) -> None:
        env = self.state.environment(org, project, name)
        with self.state.lock:
            text = self.state.decrypted_text(env)
        self.send_yaml(text, {})

    def handle_versions(self, org: str, project: str, name: str) -> None:
        env = self.state.environment(org, project, name)
        with self.state.lock:
            history = list(reversed(self.state.history.get(env.ref, [])))
        self.send_json(200, history)

    def handle_patch(self, org: str, project: str, name: str) -> None:
        env = self.state.environment(org, project, name)
        if not (self.headers.get("Content-Type") or "").startswith("application/x-yaml"):
            raise EscError(400, "the definition must be sent as application/x-yaml")
        with self.state.lock:
            wanted = self.headers.get("If-Match")
            if wanted is not None and wanted != self.state.etag(env):
                raise EscError(409, "Conflict: the environment was modified since it was read")
            self.state.patches.append(self.body.decode())
            self.state.store(env, self.body.decode())
        self.send_json(200, {"diagnostics": []})


@pytest.fixture
def esc_admin_server() -> Iterator[EscServer]:
    """A local ESC server with the definition endpoints too."""
    with EscServer(DefinitionState(), DefinitionHandler) as server:
        yield server
