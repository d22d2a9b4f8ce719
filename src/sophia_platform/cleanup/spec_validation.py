"""Check an edited ``sophia.yaml`` with the spec model before it is written."""

from __future__ import annotations

from pydantic import ValidationError

from sophia_platform.cleanup.specfile import SpecDocument
from sophia_platform.spec.checks import cross_check
from sophia_platform.spec.model import Spec
from sophia_platform.spec.problems import format_loc


def validate_document(doc: SpecDocument) -> tuple[list[str], list[str]]:
    """(model errors that forbid writing, cross-check problems the user must follow up)."""
    try:
        spec = Spec.model_validate(doc.plain())
    except ValidationError as exc:
        return [f"{format_loc(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()], []
    return [], [f"{p.path}: {p.message}" for p in cross_check(spec)]
