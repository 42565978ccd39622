"""The scrutiny pack's PDF and workbook: content, page numbering, charts, and formula safety."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from python_calamine import CalamineWorkbook

from dashboard.pack import export as pack_export
from dashboard.pack.model import SECTIONS, Figure, Pack, Table

HOSTILE = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
           "-2+3", "\tTAB", "\rCR"]
SNAPSHOT = "tracker snapshot 5 (as at 31/07/2022)"
CONNECT = "Connect upload 3 (offences to 30/06/2022)"
QUARTERS = [("2020/21 Q2", dt.date(2020, 7, 1)), ("2020/21 Q3", dt.date(2020, 10, 1)),
            ("2020/21 Q4", dt.date(2021, 1, 1)), ("2021/22 Q1", dt.date(2021, 4, 1)),
            ("2021/22 Q2", dt.date(2021, 7, 1)), ("2021/22 Q3", dt.date(2021, 10, 1)),
            ("2021/22 Q4", dt.date(2022, 1, 1)), ("2022/23 Q1", dt.date(2022, 4, 1))]


def figure(section, measure, definition, value, display, previous, previous_display,
           year_ago, year_ago_display, direction, source=SNAPSHOT) -> Figure:
    return Figure(section, measure, definition, value, display, previous, previous_display,
                  year_ago, year_ago_display, direction, source)


def sample_figures() -> list[Figure]:
    flows, stock, rates, cost, coverage = SECTIONS
    return [
        figure(flows, "Referrals received", "People referred, by referral date", 42, "42",
               38, "38", 29, "29", "up"),
        figure(flows, "Assessed", "First assessment completed, by assessment date", 31, "31",
               33, "33", 22, "22", "down"),
        figure(flows, "Entered rehab", "Admitted to residential rehab, by admission date",
               9, "9", 9, "9", 6, "6", "same"),
        figure(flows, "Completed 12 weeks", "Left rehab after 12 weeks or more, by leaving "
               "date", None, "<5", 5, "5", None, "<5", "n/a"),
        figure(flows, "Discharged early", "Left rehab before 12 weeks, by leaving date",
               6, "6", 7, "7", 5, "5", "down"),
        figure(stock, "Active caseload at quarter end", "People with status Active on the "
               "snapshot nearest the quarter end", 57, "57", 51, "51", 40, "40", "up"),
        figure(stock, "Waiting for a rehab place", "Status Referral/Waiting at quarter end",
               12, "12", 14, "14", 9, "9", "down"),
        figure(stock, "In rehab at quarter end", "Admitted and not yet left at quarter end",
               8, "8", 8, "8", 5, "5", "same"),
        figure(rates, "Entered rehab within 90 days", "Share of referrals made 90 to 180 days "
               "before quarter end who entered rehab within 90 days", 0.45,
               "45% (95% CI 33% to 58%)", 0.41, "41%", 0.30, "30%", "up"),
        figure(rates, "Completed 12 weeks, of those leaving", "Completions as a share of "
               "everyone leaving rehab in the quarter", 0.38, "38% (95% CI 19% to 61%)",
               0.42, "42%", None, "n/a", "down"),
        figure(rates, "Reoffended within 12 months", "Recorded offence within 12 months of "
               "leaving rehab (needs a year of follow-up)", None, "n/a", None, "n/a", None,
               "n/a", "n/a", CONNECT),
        figure(cost, "Estimated goods not stolen", "People abstinent x offending rate x "
               "average value stolen, central estimate", 760_000, "£760,000", 712_500,
               "£712,500", 540_000, "£540,000", "up", "cost model, assumptions below"),
        figure(cost, "Rehab placements funded", "Placement weeks x weekly fee", 212_400,
               "£212,400", 198_000, "£198,000", 150_000, "£150,000", "up",
               "cost model, assumptions below"),
        figure(coverage, "Referrals with an outcome recorded", "Share of referrals older than "
               "90 days with any outcome", 0.92, "92%", 0.90, "90%", 0.81, "81%", "up"),
        figure(coverage, "Connect offences matched", "Offences matched to a referral by "
               "nominal ID", 0.87, "87%", 0.87, "87%", 0.79, "79%", "same", CONNECT),
    ]


def sample_tables(officers=("PC Aisha Khan", "PC Ben Hughes", "DC Chloe Evans",
                            "PS Dev Patel", "PC Ewan O'Neill")) -> list[Table]:
    caseload = pd.DataFrame({
        "Officer": list(officers),
        "Referral/Waiting": [6, "<5", 7, "<5", 0],
        "Active": [14, 11, 9, "<5", 12],
        "Inactive": ["<5", 5, "<5", 0, "<5"],
        "Withdrawn": [0, "<5", "<5", 0, "<5"],
        "Total": [24, 19, 20, 6, 16],
    })
    discharges = pd.DataFrame({
        "Reason": ["Self-discharged", "Discharged - rule breach", "Discharged - other"],
        "People": [3, "<5", "<5"],
        "Median weeks in rehab": [3.0, 4.5, None],
    })
    coverage = pd.DataFrame({
        "Source": ["Tracker snapshot", "Connect offences", "Rehab invoices"],
        "Rows": [1_204, 58_311, 96],
        "First date": [dt.date(2019, 4, 1), dt.date(2017, 1, 1), dt.date(2020, 6, 15)],
        "Last date": [dt.date(2022, 7, 31), dt.date(2022, 6, 30), None],
        "Loaded": [dt.datetime(2022, 8, 2, 9, 15), dt.datetime(2022, 7, 4, 16, 40),
                   dt.datetime(2022, 7, 29, 11, 5)],
        "Spend_gbp": [None, None, 212_400],
    })
    units = pd.DataFrame({
        "Neighbourhood policing unit": [f"NPU {n:02d} {name}" for n, name in enumerate(
            ["Birmingham East", "Birmingham West", "Coventry", "Dudley", "Sandwell",
             "Solihull", "Walsall", "Wolverhampton"], start=1)],
        "Referrals": [9, 7, 6, "<5", 5, "<5", 6, "<5"],
    })
    return [
        Table("Caseload by officer", "Caseload by officer and status at quarter end",
              "From the tracker snapshot as at 31/07/2022; counts from 1 to 4 shown as <5.",
              caseload),
        Table("Early discharges", "Early discharges by reason",
              "People who left rehab before 12 weeks in the quarter.", discharges),
        Table("Data coverage", "Data coverage", "What each source holds and when it was "
              "loaded.", coverage),
        Table("Referrals by NPU", "Referrals by neighbourhood policing unit",
              "By the unit of the referring officer.", units),
    ]


def sample_trend() -> pd.DataFrame:
    series = {
        "Referrals received": [27, 31, 29, 29, 33, 36, 38, 42],
        "Entered rehab": [5, 6, 7, 6, 8, 7, 9, 9],
        "Completed 12 weeks": [None, 5, None, None, 6, 5, 5, None],
        "Active caseload at quarter end": [35, 37, 39, 40, 44, 47, 51, 57],
        "Entered rehab within 90 days": [0.28, 0.31, 0.29, 0.30, 0.35, 0.38, 0.41, 0.45],
        "Estimated goods not stolen": [400_000, 455_000, 480_000, 540_000, 590_000,
                                       640_000, 712_500, 760_000],
    }
    return pd.DataFrame([
        {"quarter": q, "quarter_start": start, "measure": measure, "value": values[i],
         "display": "<5" if values[i] is None else f"{values[i]:,}"}
        for measure, values in series.items() for i, (q, start) in enumerate(QUARTERS)])


def sample_pack(**changes) -> Pack:
    pack = Pack(
        quarter="2022/23 Q1", start=dt.date(2022, 4, 1), end=dt.date(2022, 6, 30),
        scheme="financial", snapshot_id=5, snapshot_as_at=dt.date(2022, 7, 31),
        connect_upload_id=3, generated_at=dt.datetime(2022, 8, 3, 10, 30),
        disclosure="controlled", threshold=5, figures=sample_figures(),
        tables=sample_tables(), trend=sample_trend(),
        assumptions={"Average value stolen per offence": "£1,140",
                     "Offences per person per year before rehab": "52",
                     "Share of savings realised": "40% to 60%",
                     "Weekly rehab fee": "£1,180"},
        caveats=["Counts from 1 to 4 are shown as <5 and totals that would reveal them are "
                 "withheld.",
                 "Rates on small bases have wide intervals: read the 95% interval, not just "
                 "the rate.",
                 "Connect offences are matched by nominal ID; 13% could not be matched."],
        signed_off_by="Supt Jane Doe", signed_off_at=dt.datetime(2022, 8, 4, 14, 5),
        pack_id=12)
    return dataclasses.replace(pack, **changes)


def empty_pack() -> Pack:
    nothing = [figure(section, f"Nothing in {section}", "", None, "n/a", None, "n/a", None,
                      "n/a", "n/a", "") for section in SECTIONS]
    nothing.append(figure(SECTIONS[0], "Never filled in", None, None, None, None, None, None,
                          None, None, None))
    return sample_pack(
        figures=nothing, trend=pd.DataFrame(columns=["quarter", "quarter_start", "measure",
                                                     "value"]),
        tables=[Table("Empty", "An empty table", "", pd.DataFrame()),
                Table("No rows", "Columns but no rows", "", pd.DataFrame(columns=["A", "B"]))],
        assumptions={}, caveats=[], snapshot_id=None, snapshot_as_at=None,
        connect_upload_id=None, signed_off_by=None, signed_off_at=None, pack_id=None)


# ---------------------------------------------------------------- reading the outputs back


def pdf_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """Each page's text, by poppler's pdftotext (CI installs poppler-utils)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: run bin/setup --with-browser (installs poppler-utils)",
                    pytrace=False)
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def page_count(pdf: bytes) -> int:
    """Pages counted from the PDF's own page tree, without a PDF library."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def ink(png: bytes) -> float:
    """The share of pixels that are not (near) white."""
    with Image.open(io.BytesIO(png)) as image:
        grey = image.convert("L")
        dark = sum(count for level, count in enumerate(grey.histogram()) if level < 235)
        return dark / (grey.width * grey.height)


def sheets(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def rows_after_header(rows: list[list], first: str) -> list[dict]:
    start = next(i for i, row in enumerate(rows) if row and row[0] == first)
    header = rows[start]
    return [dict(zip(header, row)) for row in rows[start + 1:]]


# ---------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return pack_export.pdf_bytes(sample_pack())


def test_pdf_is_a_pdf_of_several_numbered_pages(pdf, tmp_path):
    assert pdf.startswith(b"%PDF-")
    pages = page_count(pdf)
    assert pages >= 3
    text = pdf_text(pdf, tmp_path)
    assert len(text) == pages
    assert "Page" not in text[0]  # the cover has no footer
    for number, page in enumerate(text[1:], start=2):
        assert f"Page {number} of {pages}" in page
        assert "2022/23 Q1" in page


def test_pdf_cover_says_what_the_pack_is(pdf, tmp_path):
    cover = " ".join(pdf_text(pdf, tmp_path)[0].split())
    for expected in ["Offender to Rehab", "Quarterly scrutiny pack",
                     "2022/23 Q1: 1 April to 30 June 2022", "as at 31/07/2022",
                     "Generated 03/08/2022 10:30", "Supt Jane Doe on 04/08/2022 14:05",
                     "For circulation: counts under 5 read <5, counts withheld to protect "
                     "them [c]"]:
        assert expected in cover


def test_what_to_read_first_is_on_the_cover_and_at_the_top_of_the_notes(tmp_path):
    part = sample_pack(part_quarter_to=dt.date(2022, 5, 31), demo=True, disclosure="exact")
    cover = " ".join(pdf_text(pack_export.pdf_bytes(part), tmp_path)[0].split())
    warnings = ["Synthetic demo data: these figures are not about real people.",
                "Part quarter: the data runs only to 31/05/2022. Flows, rates and cost "
                "savings count only that far, so they are not rated against the previous "
                "quarter, and the trend leaves this quarter out.",
                "Internal only: this pack shows exact counts, including counts under 5. Do "
                "not circulate."]
    for warning in warnings:
        assert warning in cover
    notes = sheets(pack_export.xlsx_bytes(part))["Notes"]
    assert [row[1] for row in notes if row[0] == "Read first"] == warnings
    assert notes[1][0] == "Programme" and notes[4][0] == "Read first"
    whole = " ".join(pdf_text(pack_export.pdf_bytes(sample_pack()), tmp_path)[0].split())
    assert "Part quarter" not in whole and "Synthetic" not in whole
    assert not [row for row in sheets(pack_export.xlsx_bytes(sample_pack()))["Notes"]
                if row[0] == "Read first"]


def test_pdf_headline_table_carries_figures_pounds_and_arrows(pdf, tmp_path):
    text = " ".join(" ".join(pdf_text(pdf, tmp_path)[1:3]).split())
    assert "Referrals received 42 38 29 \u2191 up" in text
    assert "Completed 12 weeks <5 5 <5 n/a" in text
    assert "£760,000 £712,500 £540,000" in text
    assert "\u2193 down" in text and "\u2192 same" in text
    for section in SECTIONS:
        assert section in text


def test_pdf_has_every_table_definition_caveat_and_assumption(pdf, tmp_path):
    text = " ".join(" ".join(pdf_text(pdf, tmp_path)).split())
    for table in sample_tables():
        assert table.title in text and table.note in text
    assert "PC Ewan O'Neill" in text
    assert "31/07/2022" in text and "02/08/2022 09:15" in text  # UK dates in a table
    assert "£212,400" in text and "1,204" in text and "58,311" in text
    for f in sample_figures():
        assert f.definition in text
    for caveat in sample_pack().caveats:
        assert caveat in text
    for key, value in sample_pack().assumptions.items():
        assert f"{key} {value}" in text


def test_pdf_long_table_breaks_across_pages_with_its_header_repeated(tmp_path):
    long = pd.DataFrame({"Referral ID": [f"R{n:04d}" for n in range(150)],
                         "Officer": ["PC Aisha Khan"] * 150, "Days waiting": range(150)})
    pack = sample_pack(tables=[Table("Long", "Every referral", "One row each.", long)])
    text = pdf_text(pack_export.pdf_bytes(pack), tmp_path)
    holding = [page for page in text if re.search(r"R0\d{3}", page)]
    assert len(holding) >= 3
    for page in holding:
        assert "Referral ID" in page and "Days waiting" in page
    assert "R0000" in holding[0] and "R0149" in holding[-1]


def test_pdf_says_internal_when_counts_are_exact(tmp_path):
    text = pdf_text(pack_export.pdf_bytes(sample_pack(disclosure="exact")), tmp_path)
    assert "Internal: exact counts" in " ".join(text[0].split())
    assert "2022/23 Q1 \u00b7 Internal" in text[-1]  # every page's footer says which kind


def test_pdf_embeds_both_charts(pdf):
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) == 2


def test_the_shipped_font_draws_every_character_the_pack_prints(tmp_path):
    from fontTools.ttLib import TTFont

    for name in pack_export.FONT_FILES.values():
        cmap = TTFont(str(pack_export.FONT_DIR / name), lazy=True).getBestCmap()
        assert all(ord(ch) in cmap for ch in pack_export.NEEDED_GLYPHS), name
    pack = sample_pack(caveats=["An en dash – and a → arrow and ‘quotes’."])
    text = " ".join(" ".join(pdf_text(pack_export.pdf_bytes(pack), tmp_path)).split())
    assert "£760,000" in text and "An en dash – and a → arrow and ‘quotes’." in text
    assert "↑ up" in text


@pytest.mark.parametrize("build", [pack_export.trend_chart, pack_export.journey_chart])
def test_charts_render_offline_and_are_not_blank(build):
    chart = build(sample_pack())
    spec = chart.to_dict()
    assert "url" not in str(spec)  # data travels inside the spec
    png = pack_export.chart_png(chart)
    assert png.startswith(b"\x89PNG")
    assert ink(png) > 0.01


def test_trend_chart_draws_a_panel_per_measure_in_its_own_unit():
    spec = pack_export.trend_chart(sample_pack()).to_dict()
    panels = {panel["title"]["text"]: panel["layer"][0]["encoding"]["y"]["axis"]
              for panel in spec["concat"]}
    assert list(panels) == ["Referrals received", "Entered rehab", "Completed 12 weeks",
                            "Active caseload at quarter end", "Entered rehab within 90 days",
                            "Estimated goods not stolen"]
    assert panels["Entered rehab within 90 days"]["format"] == ".0%"
    assert panels["Estimated goods not stolen"]["labelExpr"].startswith("'£'")
    assert panels["Referrals received"]["format"] == ",d"


def y_axis_labels(panel_svg: str) -> list[str]:
    y_axis = panel_svg.split('aria-label="Y-axis', 1)[1].split("role-axis-label", 1)[1]
    return re.findall(r"<text[^>]*>([^<]*)</text>", y_axis.split("role-axis-domain", 1)[0])


@pytest.mark.parametrize("counts", [[0, 1, 0, 1, 0, 0, 1, 1], [1] * 8, [0, 2, 1, 2, 0, 1, 1, 2],
                                    [0, 3, 1, 0, 2, 3, 1, 0], [0] * 8, [5, 7, 2, 6, 3, 4, 7, 7],
                                    [27, 31, 29, 29, 33, 36, 38, 42]])
def test_a_count_panel_labels_each_tick_once_however_small_the_counts(counts):
    # Four ticks over 0 to 1 read "0, 1, 1" in whole numbers: a reader sees a broken axis.
    import vl_convert
    trend = pd.DataFrame([{"quarter": q, "quarter_start": start, "measure": "Completions",
                           "value": counts[i], "display": str(counts[i])}
                          for i, (q, start) in enumerate(QUARTERS)])
    spec = pack_export.trend_spec(sample_pack(trend=trend))
    (panel,) = spec["concat"]
    labels = y_axis_labels(vl_convert.vegalite_to_svg({**panel, "datasets": spec["datasets"]}))
    numbers = [int(label.replace(",", "")) for label in labels]
    assert len(numbers) >= 2 and numbers[0] == 0, labels
    assert numbers == sorted(set(numbers)), labels


def odd_trend() -> pd.DataFrame:
    """Panels in every unit and shape: all gaps, all zeros, large counts, rates, no dates."""
    trend = sample_trend()
    more = pd.DataFrame([
        {"quarter": q, "quarter_start": start, "measure": measure, "value": value(i),
         "display": ""}
        for measure, value in (("Withheld throughout", lambda i: None),
                               ("Never any", lambda i: 0),
                               ("Crimes matched", lambda i: 9_000 + 1_000 * i),
                               ("Unprinted share", lambda i: i / 10))
        for i, (q, start) in enumerate(QUARTERS)])
    return pd.concat([more, trend], ignore_index=True)


@pytest.mark.parametrize("pack", [
    sample_pack(), sample_pack(trend=odd_trend()),
    sample_pack(trend=odd_trend().drop(columns="quarter_start")),
    sample_pack(trend=sample_trend().iloc[::-1]), empty_pack()],
    ids=["sample", "every unit", "no quarter dates", "newest first", "empty"])
def test_the_pages_trend_spec_is_the_trend_chart_exactly(pack):
    chart = pack_export.trend_chart(pack)
    spec = pack_export.trend_spec(pack)
    if chart is None:
        assert spec is None and pack.trend.empty
        return
    assert json.dumps(spec) == json.dumps(chart.to_dict())  # the same keys, order and data
    assert len(spec["concat"]) == len(set(pack.trend["measure"])) - (
        "Withheld throughout" in set(pack.trend["measure"]))


# ---------------------------------------------------------------- XLSX


@pytest.fixture(scope="module")
def workbook() -> dict[str, list[list]]:
    return sheets(pack_export.xlsx_bytes(sample_pack()))


def test_workbook_has_a_sheet_per_table_and_its_own_sheets(workbook):
    assert list(workbook) == ["Headline", "Caseload by officer", "Early discharges",
                              "Data coverage", "Referrals by NPU", "Trend", "Notes"]


def test_headline_numbers_are_numbers_and_suppressed_counts_are_text(workbook):
    rows = {row["Measure"]: row for row in rows_after_header(workbook["Headline"], "Section")}
    assert len(rows) == len(sample_figures())
    referrals = rows["Referrals received"]
    assert (referrals["This quarter"], referrals["Previous quarter"],
            referrals["Same quarter last year"]) == (42, 38, 29)
    assert all(isinstance(referrals[k], (int, float)) and not isinstance(referrals[k], bool)
               for k in ("This quarter", "Previous quarter", "Same quarter last year"))
    completed = rows["Completed 12 weeks"]
    assert (completed["This quarter"], completed["Previous quarter"],
            completed["Same quarter last year"]) == ("<5", 5, "<5")
    assert rows["Estimated goods not stolen"]["This quarter"] == 760_000
    assert rows["Entered rehab within 90 days"]["This quarter"] == pytest.approx(0.45)
    assert rows["Entered rehab within 90 days"]["This quarter as printed"] == \
        "45% (95% CI 33% to 58%)"
    assert rows["Reoffended within 12 months"]["This quarter"] == "n/a"
    assert referrals["Definition"] == "People referred, by referral date"
    assert referrals["Source"] == SNAPSHOT


def test_table_sheets_keep_numbers_text_and_dates(workbook):
    assert workbook["Caseload by officer"][0][0] == "Caseload by officer and status at " \
                                                    "quarter end"
    caseload = rows_after_header(workbook["Caseload by officer"], "Officer")
    assert caseload[0] == {"Officer": "PC Aisha Khan", "Referral/Waiting": 6, "Active": 14,
                           "Inactive": "<5", "Withdrawn": 0, "Total": 24}
    coverage = rows_after_header(workbook["Data coverage"], "Source")
    assert coverage[0]["First date"] == dt.date(2019, 4, 1)
    assert coverage[0]["Loaded"] == dt.datetime(2022, 8, 2, 9, 15)
    assert coverage[2]["Last date"] == "" and coverage[2]["Spend_gbp"] == 212_400


def test_trend_sheet_is_long_form(workbook):
    rows = rows_after_header(workbook["Trend"], "Quarter")
    assert len(rows) == len(sample_trend())
    assert rows[0] == {"Quarter": "2020/21 Q2", "Quarter start": dt.date(2020, 7, 1),
                       "Measure": "Referrals received", "Value": 27}
    completed = [row["Value"] for row in rows if row["Measure"] == "Completed 12 weeks"]
    assert completed == ["<5", 5, "<5", "<5", 6, 5, 5, "<5"]


def test_notes_sheet_has_dates_disclosure_sign_off_and_the_words(workbook):
    notes = {row[0]: row[1] for row in workbook["Notes"] if row and row[0]}
    assert notes["Quarter"] == "2022/23 Q1: 1 April to 30 June 2022"
    assert notes["Quarter starts"] == dt.date(2022, 4, 1)
    assert notes["Snapshot as at"] == dt.date(2022, 7, 31)
    assert notes["Disclosure"] == ("For circulation: counts under 5 read <5, counts withheld "
                                   "to protect them [c]")
    assert notes["Signed off by"] == "Supt Jane Doe"
    assert notes["Signed off at"] == dt.datetime(2022, 8, 4, 14, 5)
    cells = {cell for row in workbook["Notes"] for cell in row}
    assert set(sample_pack().caveats) <= cells
    assert {f.definition for f in sample_figures()} <= cells
    assert set(sample_pack().assumptions.values()) <= cells


def test_workbook_dates_are_formatted_dd_mm_yyyy_and_headers_frozen():
    with zipfile.ZipFile(io.BytesIO(pack_export.xlsx_bytes(sample_pack()))) as book:
        styles = book.read("xl/styles.xml").decode()
        sheet_xml = [book.read(n).decode() for n in book.namelist()
                     if n.startswith("xl/worksheets/sheet")]
    assert 'formatCode="dd/mm/yyyy"' in styles
    assert all('state="frozen"' in xml for xml in sheet_xml)
    assert all("<col " in xml for xml in sheet_xml)  # column widths set


def test_sheet_names_are_valid_unique_and_short():
    taken = {"headline", "trend", "notes"}
    names = [pack_export.sheet_name(n, taken) for n in
             ["Trend", "a/b:c*d?[e]", "x" * 40, "x" * 40, "", "'quoted'", "History"]]
    assert names == ["Trend (2)", "a b c d e", "x" * 31, "x" * 27 + " (2)", "Table",
                     "quoted", "History table"]
    assert all(len(n) <= 31 for n in names)


def test_formula_like_text_comes_back_as_text_never_as_a_formula():
    tables = sample_tables(officers=HOSTILE[:5])
    tables[1].frame.loc[0, "Reason"] = HOSTILE[5]
    pack = sample_pack(tables=tables, signed_off_by=HOSTILE[0],
                       caveats=[HOSTILE[1]], assumptions={HOSTILE[2]: HOSTILE[3]})
    data = pack_export.xlsx_bytes(pack)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in book.read(name).decode() and "<f " not in \
                    book.read(name).decode()
    back = sheets(data)
    officers = [row["Officer"] for row in rows_after_header(back["Caseload by officer"],
                                                            "Officer")]
    assert officers == ["'" + h for h in HOSTILE[:5]]
    reasons = [row["Reason"] for row in rows_after_header(back["Early discharges"], "Reason")]
    assert reasons[0] == "'" + HOSTILE[5]
    notes = {cell for row in back["Notes"] for cell in row}
    assert {"'" + h for h in HOSTILE[:4]} <= notes
    assert not any(isinstance(c, str) and c.startswith(tuple("=+-@\t\r"))
                   for rows in back.values() for row in rows for c in row)


def test_formula_like_text_in_the_pdf_is_printed_as_is(tmp_path):
    pack = sample_pack(tables=sample_tables(officers=HOSTILE[:5]))
    text = pdf_text(pack_export.pdf_bytes(pack), tmp_path)
    assert '=HYPERLINK("http://x","click")' in " ".join(text)


# ---------------------------------------------------------------- files and empty packs


def test_a_pack_with_no_data_still_writes_both_files(tmp_path):
    pack = empty_pack()
    pdf = pack_export.write_pdf(pack, tmp_path / "empty.pdf")
    xlsx = pack_export.write_xlsx(pack, tmp_path / "empty.xlsx")
    assert pdf == tmp_path / "empty.pdf" and xlsx == tmp_path / "empty.xlsx"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = " ".join(" ".join(pdf_text(pdf.read_bytes(), tmp_path)).split())
    assert "No trend data to draw" in text and "No rows for this quarter" in text
    assert "Not signed off: draft" in text
    back = sheets(xlsx.read_bytes())
    assert list(back) == ["Headline", "Empty", "No rows", "Trend", "Notes"]
    assert rows_after_header(back["Headline"], "Section")[0]["This quarter"] == "n/a"


def test_write_functions_write_what_the_bytes_functions_return(tmp_path):
    pack = sample_pack()
    assert pack_export.write_pdf(pack, tmp_path / "p.pdf").read_bytes() == \
        pack_export.pdf_bytes(pack)
    assert pack_export.write_xlsx(pack, tmp_path / "p.xlsx").read_bytes() == \
        pack_export.xlsx_bytes(pack)


def test_the_workbook_is_written_without_temporary_files(monkeypatch):
    # xlsxwriter writes each part to a temporary file unless told otherwise: the pack's
    # figures (the exact pack's small counts too) would lie on the server's disk meanwhile.
    import tempfile

    def no_temporary_files(*args, **kwargs):
        raise AssertionError("a temporary file was made")

    for name in ("mkstemp", "TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, no_temporary_files)
    assert zipfile.is_zipfile(io.BytesIO(pack_export.xlsx_bytes(sample_pack())))


@pytest.mark.parametrize("cells, numeric", [
    ([5, "<5", "[c]", 0], True), ([12, "[c]", "[x]"], True), (["<5", "[z]"], True),
    (["Officer 1", "[c]"], False), (["n/a", 3], False), ([None, None], False)])
def test_a_count_column_with_withheld_cells_is_aligned_as_numbers(cells, numeric):
    # A circulated caseload column holding [c] was left-aligned beside right-aligned ones, so
    # neighbouring counts ran together ("10 6").
    from dashboard.pack.export import pdf as pack_pdf
    assert pack_pdf._mostly_numbers(pd.Series(cells, dtype=object)) is numeric
