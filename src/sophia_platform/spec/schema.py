"""The JSON Schema of ``sophia.yaml`` (``sophia schema``), for editors and CI."""

from __future__ import annotations

from typing import Any

from sophia_platform.spec.model import Spec

SCHEMA_ID = "https://sophia-platform.dev/schema/sophia.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) generated from the pydantic model."""
    schema = Spec.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "sophia.yaml",
    }
