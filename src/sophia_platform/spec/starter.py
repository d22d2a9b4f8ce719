"""The commented starter ``sophia.yaml`` that ``sophia init`` writes."""

from __future__ import annotations

_STARTER = """\
# sophia.yaml: the one source of truth of {project}.
# Check it with `sophia validate`; see every key with `sophia schema`.
project: {project}
registry: docker.io/your-org          # images without a registry get this prefix

default_environment: production
environments:
  production:
    context: {project}-prod           # kubeconfig context of the cluster
    namespace: {project}-prod
    esc: your-org/default/{project}-production   # Pulumi ESC environment (org/project/env)
  local:
    context: sophia-local             # `sophia dev cluster up` creates this context
    namespace: {project}

# The machines. Addresses are references resolved from config, never IP literals.
nodes:
  control:
    role: server
    address: ${{NODE_CONTROL_HOST}}
  gpu-1:
    role: agent
    address: ${{NODE_GPU_1_HOST}}
    gpu: {{type: A100, count: 1}}       # becomes the gpu-type label and nvidia.com/gpu capacity

services:
  api:
    image: {project}-api
    tag: "0.1.0"                      # `latest` is refused in production
    port: 8000
    replicas: 2
    health: /health                   # readiness and liveness probes
    resources: {{cpu: 250m, memory: 512Mi}}
    depends_on: [redis]
    secrets: [OPENAI_API_KEY, REDIS_URL]
  redis:
    kind: statefulset
    image: redis:7.4
    port: 6379
    storage: 5Gi

# The secrets manifest: one row per secret. Defaults: same GitHub name, lower-case ESC path,
# Kubernetes key = the name. Values live in GitHub/ESC/the local store, never here.
secrets:
  OPENAI_API_KEY: {{description: OpenAI API key}}
  REDIS_URL: {{description: Redis connection URL}}
"""


def starter_text(project: str) -> str:
    """The starter file for a project name."""
    return _STARTER.format(project=project)
