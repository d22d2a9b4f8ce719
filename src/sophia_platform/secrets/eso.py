"""External Secrets Operator manifests, for teams that prefer the operator to ``sync``.

One ``SecretStore`` (the Pulumi ESC provider) and one ``ExternalSecret`` per Kubernetes Secret
of the layout, with the same Secret names and keys ``sync --to kubernetes`` writes — so the
Helm chart does not care which of the two filled them. ESO does not restart pods on change
(ESO#3218); ``sync --to kubernetes`` does.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from sophia_platform.errors import UsageError
from sophia_platform.secrets.manifest import Manifest

if TYPE_CHECKING:
    from sophia_platform.spec import Spec

STORE_NAME = "sophia-pulumi-esc"
TOKEN_SECRET = "pulumi-access-token"
TOKEN_KEY = "PULUMI_ACCESS_TOKEN"


def eso_documents(
    spec: Spec,
    env_name: str,
    *,
    api_version: str = "external-secrets.io/v1",
    api_url: str = "https://api.pulumi.com/api/esc",
    refresh: str = "1h",
) -> list[dict[str, Any]]:
    """The SecretStore and ExternalSecrets of one environment, as plain data."""
    env = spec.environments[env_name]
    if not env.esc:
        raise UsageError(f"environment {env_name!r} has no esc: org/project/env to read from")
    org, project, esc_env = env.esc.split("/")
    manifest = Manifest.from_spec(spec)
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": api_version,
            "kind": "SecretStore",
            "metadata": {"name": STORE_NAME, "namespace": env.namespace},
            "spec": {
                "provider": {
                    "pulumi": {
                        "apiUrl": api_url,
                        "organization": org,
                        "project": project,
                        "environment": esc_env,
                        "accessToken": {"secretRef": {"name": TOKEN_SECRET, "key": TOKEN_KEY}},
                    }
                }
            },
        }
    ]
    for secret, keys in sorted(manifest.kube_layout().items()):
        docs.append(
            {
                "apiVersion": api_version,
                "kind": "ExternalSecret",
                "metadata": {"name": secret, "namespace": env.namespace},
                "spec": {
                    "refreshInterval": refresh,
                    "secretStoreRef": {"kind": "SecretStore", "name": STORE_NAME},
                    "target": {
                        "name": secret,
                        "creationPolicy": "Owner",
                        "template": {
                            "metadata": {"labels": {"app.kubernetes.io/managed-by": "sophia"}}
                        },
                    },
                    "data": [
                        {"secretKey": key, "remoteRef": {"key": manifest.entries[name].esc}}
                        for key, name in sorted(keys.items())
                    ],
                },
            }
        )
    return docs


def render_eso(spec: Spec, env_name: str, **kwargs: Any) -> str:
    """The manifests as one multi-document YAML stream."""
    yaml = YAML()
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump_all(eso_documents(spec, env_name, **kwargs), buffer)
    return buffer.getvalue()
