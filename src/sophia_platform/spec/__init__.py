"""``sophia.yaml``: the model, the positioned loader and the cross-checks.

Names are loaded on first use (PEP 562): ``from sophia_platform.spec import Spec`` imports
pydantic and builds the model, but a command that only needs :mod:`.facts` (``sophia
status``) imports this package without paying for either.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sophia_platform.spec.facts import SpecFacts, is_production
    from sophia_platform.spec.loader import LoadResult, load_spec, validate_file
    from sophia_platform.spec.location import resolve_spec_path
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
    )
    from sophia_platform.spec.problems import Problem

_WHERE = {
    "is_production": "facts",
    "SpecFacts": "facts",
    "LoadResult": "loader",
    "load_spec": "loader",
    "resolve_spec_path": "location",
    "validate_file": "loader",
    "Problem": "problems",
    **dict.fromkeys(
        [
            "Build",
            "Ci",
            "Environment",
            "Gpu",
            "Ingress",
            "KubeSecretRef",
            "Node",
            "Resources",
            "SecretEntry",
            "Service",
            "Spec",
        ],
        "model",
    ),
}

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
    "SpecFacts",
    "is_production",
    "load_spec",
    "resolve_spec_path",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` when it is first asked for."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
