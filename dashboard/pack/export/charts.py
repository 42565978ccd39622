"""The pack's charts (the quarter's journey, eight quarters of trend) and their PNGs for the PDF,
drawn offline in the PDF's own font."""

from __future__ import annotations

import functools

import altair as alt
import pandas as pd
import vl_convert

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


def _axis_format(pack: Pack, measure: str, values: pd.Series) -> dict:
    """Axis labels in the measure's own unit, judged from how its figure is printed."""
    shown = next((f.display or "" for f in pack.figures if f.measure == measure), "")
    if "%" in shown or (shown == "" and values.dropna().between(0, 1).all()
                        and not values.dropna().apply(float.is_integer).all()):
        return {"format": ".0%"}
    if shown.startswith(("£", "-£")) or is_money(measure):
        return {"labelExpr": "'£' + format(datum.value, '~s')"}
    if values.max() >= 10_000:
        return {"format": "~s"}
    return {"format": ",d", "tickMinStep": 1}


def trend_chart(pack: Pack) -> alt.ConcatChart | None:
    """Small multiples: each headline measure over the last eight quarters, own y axis."""
    frame = _numeric_trend(pack)
    if frame["value"].notna().sum() == 0:
        return None
    known = [f.measure for f in pack.figures]
    measures = [m for m in known if m in set(frame["measure"])]
    measures += [m for m in dict.fromkeys(frame["measure"]) if m not in measures]
    quarters = (frame.drop_duplicates("quarter").sort_values("quarter_start")["quarter"]
                .tolist())
    panels = []
    for measure in measures:
        part = frame[frame["measure"] == measure]
        if part["value"].notna().sum() == 0:
            continue
        base = alt.Chart(part).encode(
            alt.X("quarter:O").title(None).sort(quarters).scale(domain=quarters)
            .axis(labelAngle=-45, labelFontSize=9),
            alt.Y("value:Q").title(None)
            .scale(**({"zero": True} if part["value"].max() > 0 else {"domain": [0, 1]}))
            .axis(tickCount=4, labelFontSize=9, **_axis_format(pack, measure, part["value"])),
        )
        panels.append((base.mark_line(color=OKABE_ITO[0], strokeWidth=2)
                       + base.mark_point(color=OKABE_ITO[0], filled=True, size=30))
                      .properties(width=225, height=95,
                                  title=alt.Title(measure, fontSize=11, anchor="start")))
    return alt.concat(*panels, columns=2)


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
    spec = chart.to_dict()  # inline values (Altair may put them under top-level "datasets")
    config = spec.setdefault("config", {})
    config.setdefault("background", "white")
    _register_chart_fonts()
    config.setdefault("font", "DejaVu Sans")  # the PDF's own font, so chart text matches
    return vl_convert.vegalite_to_png(spec, scale=2)


@functools.cache
def _register_chart_fonts() -> None:
    vl_convert.register_font_directory(str(FONT_DIR))

