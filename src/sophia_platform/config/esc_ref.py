"""ESC environment references and base URLs: pure string work, no network imports."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

DEFAULT_BASE_URL = "https://api.pulumi.com/api/esc"
_REF_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def base_url_from_backend(backend_url: str | None) -> str:
    """Turn ``PULUMI_BACKEND_URL`` (``https://api.pulumi.com``) into the ESC API base URL."""
    if not backend_url:
        return DEFAULT_BASE_URL
    url = backend_url.rstrip("/")
    return url if url.endswith("/api/esc") else url + "/api/esc"


@dataclass(frozen=True)
class EscRef:
    """An ESC environment reference ``org/project/env``."""

    org: str
    project: str
    env: str

    @classmethod
    def parse(cls, text: str) -> EscRef:
        """Parse ``org/project/env`` (or legacy ``org/env``, project ``default``)."""
        parts = text.strip().split("/")
        if len(parts) == 2:
            parts = [parts[0], "default", parts[1]]
        if len(parts) != 3 or not all(_REF_PART.fullmatch(p) for p in parts):
            raise ValueError(f"ESC environment {text!r} is not org/project/env")
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.org}/{self.project}/{self.env}"

    def url(self, base: str, *suffix: str) -> str:
        """Build the endpoint URL for this environment."""
        parts = [self.org, self.project, self.env, *suffix]
        return base.rstrip("/") + "/environments/" + "/".join(urllib.parse.quote(p) for p in parts)
