"""The quarterly scrutiny pack written out: a PDF for the panel and a workbook of its numbers."""

from dashboard.pack.export.pdf import (
    FONT_DIR,
    FONT_FILES,
    NEEDED_GLYPHS,
    chart_png,
    journey_chart,
    pdf_bytes,
    sheet_name,
    trend_chart,
    write_pdf,
    write_xlsx,
    xlsx_bytes,
)

__all__ = ["FONT_DIR", "FONT_FILES", "NEEDED_GLYPHS", "chart_png", "journey_chart", "pdf_bytes",
           "sheet_name", "trend_chart", "write_pdf", "write_xlsx", "xlsx_bytes"]
