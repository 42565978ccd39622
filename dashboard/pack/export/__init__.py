"""The quarterly scrutiny pack written out: a PDF for the panel and a workbook of its numbers.

formatting.py (what both print alike, and the fonts), charts.py (the journey and trend charts),
pdf.py (the A4 PDF), xlsx.py (the workbook)."""

from dashboard.pack.export.charts import chart_png, journey_chart, trend_chart
from dashboard.pack.export.formatting import FONT_DIR, FONT_FILES, NEEDED_GLYPHS
from dashboard.pack.export.pdf import pdf_bytes, write_pdf
from dashboard.pack.export.xlsx import sheet_name, write_xlsx, xlsx_bytes

__all__ = ["FONT_DIR", "FONT_FILES", "NEEDED_GLYPHS", "chart_png", "journey_chart", "pdf_bytes",
           "sheet_name", "trend_chart", "write_pdf", "write_xlsx", "xlsx_bytes"]
