"""The three formats of the report: thin renderers over one :class:`~.model.Report`."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources

from sophia_platform.report.html import render_html
from sophia_platform.report.markdown import render_markdown
from sophia_platform.report.model import Report

SCHEMA_FILE = "report.schema.json"


def schema() -> dict[str, object]:
    """The JSON Schema of ``--format json`` (generated from the model)."""
    generated: dict[str, object] = Report.model_json_schema()
    generated["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    generated["$id"] = "https://sophia.dev/schemas/report.schema.json"
    return generated


def schema_text() -> str:
    """The schema as shipped in the package (``report/report.schema.json``)."""
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def shipped_schema() -> str:
    """The schema file shipped as package data."""
    return resources.files("sophia_platform.report").joinpath(SCHEMA_FILE).read_text()


def render_json(report: Report) -> str:
    """The report as JSON (valid against :func:`schema`)."""
    return report.model_dump_json(indent=2) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {
    "html": render_html,
    "md": render_markdown,
    "json": render_json,
}
