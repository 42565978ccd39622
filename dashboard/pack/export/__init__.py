"""The quarterly scrutiny pack written out: a PDF for the panel and a workbook of its numbers.

formatting.py (what both print alike, and the fonts), charts.py (the journey and trend charts),
pdf.py (the A4 PDF), xlsx.py (the workbook).

Each name is loaded from its module when first asked for: the Quarterly pack page needs only
the trend chart's spec on every view, and the PDF writer (fpdf) costs about 0.3 CPU-s to import, a
price paid only when a pack is written.
"""

from __future__ import annotations

import importlib

HOMES = {"chart_png": "charts", "journey_chart": "charts", "trend_chart": "charts",
         "trend_spec": "charts",
         "FONT_DIR": "formatting", "FONT_FILES": "formatting", "NEEDED_GLYPHS": "formatting",
         "pdf_bytes": "pdf", "write_pdf": "pdf",
         "sheet_name": "xlsx", "write_xlsx": "xlsx", "xlsx_bytes": "xlsx"}
__all__ = sorted(HOMES)


def __getattr__(name: str) -> object:
    if name not in HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{HOMES[name]}"), name)
