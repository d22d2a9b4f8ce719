"""``sophia.yaml``: the model, the positioned loader and the cross-checks."""

from sophia_platform.spec.loader import LoadResult, load_spec, resolve_spec_path, validate_file
from sophia_platform.spec.model import (
    Build,
    Ci,
    Environment,
    Gpu,
    Ingress,
    KubeSecretRef,
    Node,
    Resources,
    SecretEntry,
    Service,
    Spec,
    is_production,
)
from sophia_platform.spec.problems import Problem

__all__ = [
    "Build",
    "Ci",
    "Environment",
    "Gpu",
    "Ingress",
    "KubeSecretRef",
    "LoadResult",
    "Node",
    "Problem",
    "Resources",
    "SecretEntry",
    "Service",
    "Spec",
    "is_production",
    "load_spec",
    "resolve_spec_path",
    "validate_file",
]
