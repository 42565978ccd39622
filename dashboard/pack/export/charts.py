"""The pack's charts (the quarter's journey, eight quarters of trend) and their PNGs for the PDF,
drawn offline in the PDF's own font."""

from __future__ import annotations

import functools
import hashlib
import json
import math

import altair as alt
import pandas as pd

from dashboard.pack.export.formatting import FONT_DIR, is_money
from dashboard.pack.model import SECTIONS, Pack
from dashboard.ui.charts import OKABE_ITO


def _numeric_trend(pack: Pack) -> pd.DataFrame:
    """The trend with values as numbers (suppressed or text values become gaps)."""
    frame = pack.trend
    if frame is None or frame.empty or not {"quarter", "measure", "value"} <= set(frame):
        return pd.DataFrame(columns=["quarter", "quarter_start", "measure", "value"])
    frame = frame.copy()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    if "quarter_start" in frame:
        frame["quarter_start"] = pd.to_datetime(frame["quarter_start"]).dt.strftime("%Y-%m-%d")
    else:
        frame["quarter_start"] = frame["quarter"].astype(str)
    frame["quarter"] = frame["quarter"].astype(str)
    frame["measure"] = frame["measure"].astype(str)
    return frame[["quarter", "quarter_start", "measure", "value"]]


def _axis_format(pack: Pack, measure: str, values: list[float]) -> dict:
    """Axis labels in the measure's own unit, judged from how its figure is printed
    (`values`: the panel's numbers, gaps left out)."""
    shown = next((f.display or "" for f in pack.figures if f.measure == measure), "")
    if "%" in shown or (shown == "" and all(0 <= v <= 1 for v in values)
                        and not all(float(v).is_integer() for v in values)):
        return {"format": ".0%"}
    if shown.startswith(("£", "-£")) or is_money(measure):
        return {"labelExpr": "'£' + format(datum.value, '~s')"}
    if max(values, default=math.nan) >= 10_000:
        return {"format": "~s"}
    # Vega asks for tickCount ticks however small the counts (and ignores tickMinStep when a
    # count is given): four ticks over 0 to 1 are labelled 0, 1, 1 in whole numbers.
    top = max(values, default=0)
    return {"format": ",d", "tickMinStep": 1, "tickCount": min(4, max(1, math.ceil(top)))}


def _trend_panels(pack: Pack) -> tuple[list[str], list[tuple[str, list[dict]]]]:
    """The trend's quarters in order, and each measure drawn with its rows (value None where
    withheld or missing); a measure with no value in any quarter is left out."""
    frame = _numeric_trend(pack)
    records = [{"quarter": quarter, "quarter_start": start, "measure": measure,
                "value": None if math.isnan(value) else value}
               for quarter, start, measure, value in zip(
                   frame["quarter"].tolist(), frame["quarter_start"].tolist(),
                   frame["measure"].tolist(), frame["value"].tolist(), strict=True)]
    present = list(dict.fromkeys(r["measure"] for r in records))
    measures = [f.measure for f in pack.figures if f.measure in present]
    measures += [m for m in present if m not in measures]
    starts: dict[str, str] = {}
    for r in records:
        starts.setdefault(r["quarter"], r["quarter_start"])
    quarters = sorted(starts, key=starts.__getitem__)
    panels = []
    for measure in measures:
        rows = [r for r in records if r["measure"] == measure]
        if any(r["value"] is not None for r in rows):
            panels.append((measure, rows))
    return quarters, panels


def _panel_scales(pack: Pack, measure: str, rows: list[dict]) -> tuple[dict, dict]:
    """The panel's y scale and y axis (ticks, labels in the measure's unit)."""
    values = [r["value"] for r in rows if r["value"] is not None]
    scale = {"zero": True} if max(values) > 0 else {"domain": [0, 1]}
    return scale, {"tickCount": 4, "labelFontSize": 9, **_axis_format(pack, measure, values)}


def trend_chart(pack: Pack) -> alt.ConcatChart | None:
    """Small multiples: each headline measure over the last eight quarters, own y axis."""
    quarters, measures = _trend_panels(pack)
    if not measures:
        return None
    panels = []
    for measure, rows in measures:
        scale, axis = _panel_scales(pack, measure, rows)
        base = alt.Chart(alt.InlineData(values=rows)).encode(
            alt.X("quarter:O").title(None).sort(quarters).scale(domain=quarters)
            .axis(labelAngle=-45, labelFontSize=9),
            alt.Y("value:Q").title(None).scale(**scale).axis(**axis),
        )
        panels.append((base.mark_line(color=OKABE_ITO[0], strokeWidth=2)
                       + base.mark_point(color=OKABE_ITO[0], filled=True, size=30))
                      .properties(width=225, height=95,
                                  title=alt.Title(measure, fontSize=11, anchor="start")))
    return alt.concat(*panels, columns=2)


def trend_spec(pack: Pack) -> dict | None:
    """trend_chart(pack).to_dict(), written out directly: the Quarterly pack page draws this
    on every pack it issues, and Altair building and checking the chart against the Vega-Lite
    schema cost more than the rest of the page bar its queries. tests/test_pack_export.py
    holds the two equal, so trend_chart stays the chart's definition."""
    quarters, measures = _trend_panels(pack)
    if not measures:
        return None
    x = {"axis": {"labelAngle": -45, "labelFontSize": 9}, "field": "quarter",
         "scale": {"domain": quarters}, "sort": quarters, "title": None, "type": "ordinal"}
    panels, datasets = [], {}
    for measure, rows in measures:
        scale, axis = _panel_scales(pack, measure, rows)
        encoding = {"x": x, "y": {"axis": axis, "field": "value", "scale": scale,
                                  "title": None, "type": "quantitative"}}
        name = _dataset_name(rows)
        datasets[name] = rows
        panels.append({
            "layer": [{"mark": {"type": "line", "color": OKABE_ITO[0], "strokeWidth": 2},
                       "encoding": encoding},
                      {"mark": {"type": "point", "color": OKABE_ITO[0], "filled": True,
                                "size": 30}, "encoding": encoding}],
            "data": {"name": name}, "height": 95,
            "title": {"text": measure, "anchor": "start", "fontSize": 11}, "width": 225})
    # What Altair adds to every chart: its default theme's view size and the schema's address.
    return json.loads(json.dumps({
        "config": {"view": {"continuousWidth": 300, "continuousHeight": 300}},
        "concat": panels, "columns": 2, "$schema": alt.SCHEMA_URL, "datasets": datasets}))


def _dataset_name(values: list[dict]) -> str:
    """The name Altair gives inline data: a hash of its values."""
    text = json.dumps(values, sort_keys=True, default=str)
    return "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def journey_chart(pack: Pack) -> alt.LayerChart | None:
    """Horizontal bars: the quarter's flow figures in journey order, each labelled as printed."""
    flows = [f for f in pack.figures if f.section == SECTIONS[0]]
    if not any(f.value is not None for f in flows):
        return None
    frame = pd.DataFrame({
        "step": [f.measure for f in flows],
        "people": [float(f.value) if f.value is not None else 0.0 for f in flows],
        "label": [f.display or "n/a" for f in flows],
    })
    base = alt.Chart(frame).encode(
        alt.Y("step:N").title(None).sort(frame["step"].tolist()).axis(labelLimit=260,
                                                                        labelFontSize=11),
        alt.X("people:Q").title("People in the quarter").axis(tickMinStep=1, format=",d"),
    )
    bars = base.mark_bar(color=OKABE_ITO[0], height=20)
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text="label:N")
    return (bars + labels).properties(width=430, height=alt.Step(30))


def chart_png(chart: alt.TopLevelMixin) -> bytes:
    """A PNG of the chart drawn offline; the data travels inside the spec."""
    import vl_convert  # the renderer: loaded only when a pack's PDF is drawn

    spec = chart.to_dict()  # inline values (Altair may put them under top-level "datasets")
    config = spec.setdefault("config", {})
    config.setdefault("background", "white")
    _register_chart_fonts()
    config.setdefault("font", "DejaVu Sans")  # the PDF's own font, so chart text matches
    return vl_convert.vegalite_to_png(spec, scale=2)


@functools.cache
def _register_chart_fonts() -> None:
    import vl_convert

    vl_convert.register_font_directory(str(FONT_DIR))

