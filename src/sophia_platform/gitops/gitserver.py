"""A real git server for the local GitOps loop: ``git http-backend`` behind a small HTTP server.

``git http-backend`` is git's own smart-HTTP CGI program (clone, fetch and push over the real
protocol); this module is the web server in front of it, the job Apache or nginx do in git's
documentation. It serves every bare repository under a root on a loopback address, optionally
behind HTTP Basic auth (the password is read from a file, never from argv), and after each
successful push runs the repository's own ``post-receive`` hook as git does.

Run it as ``python -m sophia_platform.gitops.gitserver --root DIR --port N`` (what
``sophia dev gitops up`` does). It is a development and test server: one process, threads.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import os
import shutil
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BACKEND_CANDIDATES = (
    "/usr/lib/git-core/git-http-backend",
    "/usr/libexec/git-core/git-http-backend",
)
CGI_TIMEOUT_S = 300


def http_backend() -> str:
    """Locate ``git http-backend`` (it lives in git's exec path, not on PATH)."""
    for candidate in BACKEND_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    git = shutil.which("git")
    if git:
        out = subprocess.run([git, "--exec-path"], capture_output=True, text=True, check=False)
        path = Path(out.stdout.strip()) / "git-http-backend"
        if os.access(path, os.X_OK):
            return str(path)
    raise SystemExit("git http-backend not found; install git (apt-get install git)")


class _Handler(BaseHTTPRequestHandler):
    server: GitHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _authorised(self) -> bool:
        expected = self.server.credentials
        if expected is None:
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:], validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(given, expected)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()  # the empty line after the last chunk
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        if not self._authorised():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="sophia git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self._body() if self.command == "POST" else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            # Pushes are allowed (auth, when configured, is checked above).
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.receivepack",
            "GIT_CONFIG_VALUE_0": "true",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": "git" if self.server.credentials else "",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        for name in ("KUBECONFIG", "HOME", "SOPHIA_GITOPS_NOTIFY"):
            if name in os.environ:
                env[name] = os.environ[name]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        try:
            proc = subprocess.run(
                [self.server.backend],
                input=body,
                capture_output=True,
                env=env,
                timeout=CGI_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.send_error(504, "git http-backend timed out")
            return
        if proc.stderr:
            sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
        self._reply(proc.stdout)

    def _reply(self, cgi_output: bytes) -> None:
        head, sep, payload = cgi_output.partition(b"\r\n\r\n")
        if not sep:
            head, _, payload = cgi_output.partition(b"\n\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split(" ", 1)[0])
            elif name:
                headers.append((name.strip(), value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class GitHTTPServer(ThreadingHTTPServer):
    """Serves the bare repositories under ``root``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, credentials: bytes | None) -> None:
        super().__init__(address, _Handler)
        self.root = root
        self.credentials = credentials
        self.backend = http_backend()


def create_bare(root: Path, name: str, *, branch: str = "main") -> Path:
    """Create (idempotently) a bare repository ``<root>/<name>.git`` with ``branch`` as HEAD."""
    path = root / f"{name}.git"
    if not (path / "HEAD").is_file():
        from sophia_platform import git

        root.mkdir(parents=True, exist_ok=True)
        git.run(["init", "-q", "--bare", f"--initial-branch={branch}", str(path)], root)
    return path


def main(argv: list[str] | None = None) -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, required=True, help="folder of bare repositories")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--password-file", type=Path, help="file holding 'user:password' for HTTP Basic auth"
    )
    args = parser.parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        parser.error("the development git server listens on loopback only")
    credentials = None
    if args.password_file is not None:
        credentials = args.password_file.read_bytes().strip()
    server = GitHTTPServer((args.host, args.port), args.root.resolve(), credentials)
    sys.stderr.write(f"serving {args.root} on http://{args.host}:{args.port}/\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
