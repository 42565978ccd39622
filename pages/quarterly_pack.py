"""Quarterly scrutiny pack: preview the quarter's figures, export them, sign them off."""

import datetime as dt
import logging

import pandas as pd
import streamlit as st

from dashboard import config, pack, service
from dashboard.pack import disclosure
from dashboard.pack.export import formatting
from dashboard.security import access, data_access
from dashboard.ui import exports, layout, text

log = logging.getLogger(__name__)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as printed in the pack: numbers with separators, withheld ones as their marker."""
    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        if isinstance(value, (dt.date, pd.Timestamp)):
            return f"{value:%d/%m/%Y}"
        return str(value)
    return frame.map(cell)


viewer = data_access.current_viewer()
st.title("Quarterly scrutiny pack")
st.caption("The quarter's figures as the scrutiny panel receives them: flows by event date, "
           "stock at quarter end, rates with 95% intervals, each beside the previous quarter "
           "and the same quarter a year before.")

span = data_access.run("referral_date_span")
if span.empty or span["first_referral_date"].isna().all():
    withdrawn = data_access.run("snapshots")["is_withdrawn"]
    st.info("Every tracker snapshot has been withdrawn, so there is no pack to show."
            if len(withdrawn) and withdrawn.all() else "No tracker data has been uploaded yet.")
    st.stop()

left, middle, right = st.columns(3)
scheme = left.radio("Quarters", [pack.FINANCIAL, pack.CALENDAR], horizontal=True,
                    key="pack_scheme", format_func={
                        pack.FINANCIAL: "Financial year (Q1 = April to June)",
                        pack.CALENDAR: "Calendar year"}.get)
snapshots = data_access.run("snapshots")
in_force = snapshots[~snapshots["is_withdrawn"]]
as_at = in_force["as_at_date"].iloc[0].date() if len(in_force) else dt.date.max
first = pack.quarter_containing(span["first_referral_date"].iloc[0].date(), scheme)
last = pack.quarter_containing(span["last_referral_date"].iloc[0].date(), scheme)
if len(in_force):  # to the latest snapshot's quarter: admissions, exits and stock go on in
    # quarters with no new referral, whose packs the panel must be able to have
    last = max(last, pack.quarter_containing(as_at, scheme))
quarters = pack.newest_first(first, last)
# A quarter the data does not yet cover to its end would show falls that are only missing data.
complete = [q for q in quarters if q.end <= as_at]
if pack.whole_quarters_only(viewer):  # circulated packs only: whole quarters only (build.py)
    quarters = complete
    if not quarters:
        st.info(f"No quarter is over in the data yet (the latest tracker snapshot is as at "
                f"{as_at:%d/%m/%Y}): the first pack is here once one is.")
        st.stop()
quarter = middle.selectbox(
    "Quarter", [q.label for q in quarters], key="pack_quarter",
    index=quarters.index(complete[0]) if complete else 0,
    format_func=lambda label: label if any(q.label == label for q in complete)
    else f"{label} (incomplete: data to {as_at:%d/%m/%Y})")
modes = access.capability(viewer).pack_modes
labels = {disclosure.CONTROLLED: "For circulation (small counts protected)",
          disclosure.EXACT: "Internal (exact)"}
if len(modes) == 1:
    how = modes[0]
    right.text(labels[how])
else:
    how = right.radio("Counts", list(modes), horizontal=True, key="pack_disclosure",
                      format_func=labels.get)

issued = data_access.quarterly_pack(quarter, scheme, how)
if issued.part_quarter_to:
    # Said at the top, not only among the caveats at the foot: a reader skimming the
    # headline figures would otherwise take the part quarter for a whole one.
    st.warning(f"{quarter} is not over in the data: the latest tracker snapshot runs to "
               f"{issued.part_quarter_to:%d/%m/%Y}. Its flows, rates and cost savings count "
               "only that far, so they are not rated against the previous quarter, and the "
               "trend leaves it out.")

if issued.signed_off_at:
    st.success(f"Signed off by {text.plain(issued.signed_off_by)} on "
               f"{issued.signed_off_at:%d/%m/%Y}: "
               "these are the figures as they were then.")
    if issued.differences:
        with st.expander(f"Current data would now differ in {len(issued.differences)} "
                         "place(s)"):
            st.dataframe(pd.DataFrame({"Difference": issued.differences}), hide_index=True)
else:
    st.info("Draft: not signed off. An administrator's sign-off freezes these figures.")
st.caption(f"{issued.quarter}: {issued.start:%d/%m/%Y} to {issued.end:%d/%m/%Y}. Stock from "
           + (f"tracker snapshot {issued.snapshot_id} (as at {issued.snapshot_as_at:%d/%m/%Y})"
              if issued.snapshot_id else "no snapshot on or before the quarter end") + ".")

export_pdf, export_xlsx, sign = st.columns(3)
for column, label, kind, mime in (
        (export_pdf, "Download the pack (PDF)", "pdf", "application/pdf"),
        (export_xlsx, "Download the pack (Excel)", "xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
    name = f"o2r-pack-{issued.quarter.replace('/', '-').replace(' ', '-')}-{how}.{kind}"
    # Rendered on the click, once per issued pack (data_access.quarterly_pack_file).
    layout.logged_download(label, exports.logged_file(
        data_access.quarterly_pack_file(kind, quarter, scheme, how), name, viewer.name,
        viewer.role, filters=layout.shown_filters()), file_name=name, mime=mime,
        key=f"pack_{kind}", where=column)
if viewer.role == "admin" and not issued.signed_off_at and viewer.is_demo:
    sign.caption(service.DEMO_SIGN_OFF)
elif viewer.role == "admin" and not issued.signed_off_at and issued.part_quarter_to \
        and how == disclosure.CONTROLLED:
    sign.caption("A pack for circulation is signed off once the data covers the whole "
                 "quarter.")
elif viewer.role == "admin" and not issued.signed_off_at:
    if sign.button("Sign off these figures", type="primary", key="pack_sign_off"):
        try:
            service.sign_off_pack(config.db_path(), viewer, issued)
        except service.ChangeNotLogged as done:  # signed off all the same
            log.exception("recording a pack sign-off in the access log failed")
            st.error(str(done))
        except Exception:  # never a traceback on screen; the server log has it
            log.exception("signing off a pack failed")
            st.error("Something went wrong while signing off the pack; nothing was changed. "
                     "Try again, and if it happens again tell the dashboard administrator.")
        else:
            st.rerun()

st.header("Headline figures")
# A grid per section, as the PDF prints them, and the definitions below: one grid holding
# both was wider than the page, cutting off the definitions and the rates' intervals.
WIDTHS = {"Measure": 250, "This quarter": 175, "Previous quarter": 175,
          "Same quarter last year": 175, "Direction": 150}
for section, members in formatting.ordered_figures(issued):
    if section == pack.COVERAGE:
        continue  # the Data coverage table below says where each figure comes from
    st.markdown(f"**{section}**")
    st.dataframe(pd.DataFrame([{
        "Measure": f.measure, "This quarter": f.display,
        "Previous quarter": f.previous_display, "Same quarter last year": f.year_ago_display,
        "Direction": formatting.direction_text(f.direction)} for f in members]),
        hide_index=True, height="content",
        column_config={name: st.column_config.TextColumn(
            name, width=width, alignment="left" if name in ("Measure", "Direction") else "right")
            for name, width in WIDTHS.items()})
with st.expander("What each figure counts"):
    st.markdown("\n".join(f"- **{f.measure}**: {f.definition}" for f in issued.figures
                          if f.section != pack.COVERAGE))

trend = data_access.quarterly_pack_trend(quarter, scheme, how)  # built once per pack
if trend is not None:
    st.subheader("The last eight quarters")
    st.vega_lite_chart(trend)
    st.caption(formatting.TREND_NOTE)  # as the PDF says under the same chart

for table in issued.tables:
    st.subheader(table.title)
    if table.note:
        st.caption(table.note)
    if table.frame.empty:
        st.text(formatting.NO_ROWS)  # as the PDF says; an empty grid looks broken
    else:
        st.dataframe(shown(table.frame), hide_index=True, width="stretch", height="content")

st.subheader("Caveats")
for caveat in issued.caveats:
    st.text(f"• {caveat}")
st.subheader("Assumptions (cost savings)")
st.dataframe(pd.DataFrame({"Input": list(issued.assumptions),
                           "Value": list(issued.assumptions.values())}),
             hide_index=True, width="stretch")
