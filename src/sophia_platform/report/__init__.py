"""``sophia report``: where the migration stands, and whether it is getting there.

Usage::

    from sophia_platform.report import build, Options, Sampling
    report = build(Path("."), Options(env="production"), sampling=Sampling(every="day"))
    report.metrics, report.dod, report.checklists, report.progress, report.history

The core computes one typed :class:`~.model.Report`; :mod:`.render` turns it into HTML,
Markdown or JSON (schema: ``report.schema.json``, package data).
"""

from __future__ import annotations

from sophia_platform.report.build import assemble, build
from sophia_platform.report.history import Sampling
from sophia_platform.report.model import Report
from sophia_platform.report.sources import Options

__all__ = ["Options", "Report", "Sampling", "assemble", "build"]
