"""Pieces every page shares: the data banner, charts drawn from shared specs, and download
buttons."""

from __future__ import annotations

import functools
from collections.abc import Callable

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit.elements import vega_charts

from dashboard.security import access, data_access, sign_in
from dashboard.ui import exports

ROLE_PLURALS = {"officer": "officers", "steering": "steering-group members",
                "scrutiny": "scrutiny-panel members", "admin": "administrators"}


def page_not_open(title: str, role: str) -> None:
    """What a link to a page the viewer's role may not open shows, in place of the page."""
    st.title(title)
    st.info(f"{title} is not open to {ROLE_PLURALS[role]}, so it is not shown. The pages you "
            "can open are listed in the menu; if you need this one, ask an administrator.")


def data_banner() -> None:
    """The as-at date of the data shown, and a banner whenever it is the synthetic demo data."""
    for kind, text in data_access.per_data(_banner_notes):
        if kind == "demo":
            st.warning(text, icon=":material/warning:")
        else:
            getattr(st, kind)(text)


def _banner_notes(viewer, read) -> tuple[tuple[str, str], ...]:
    """What the data banner says to viewers with these rights: (st function, text) pairs."""
    notes = []
    if viewer.role == "officer":
        options = read("filter_options")
        if not (options["field"] == "officer").any():
            notes.append(("warning", "Your account is not linked to any officer name on the "
                          "current tracker, so no figures are shown. Ask an administrator to "
                          "link your account to the name (or names) the tracker uses for you."))
    snapshots = read("snapshots")
    if snapshots.empty:
        return (*notes, ("info", "No tracker data has been uploaded yet: an administrator can "
                         "upload one on the Data page."))
    in_force = snapshots[~snapshots["is_withdrawn"]]
    if in_force.empty:
        return (*notes, ("info", "Every tracker snapshot has been withdrawn: an administrator "
                         "can upload a new one on the Data page."))
    latest = in_force.iloc[0]
    if bool(snapshots["is_demo"].all()):
        notes.append(("demo", "**Demo data.** Every figure here comes from synthetic records "
                      "made to match the 2022 evaluation's published figures, not from real "
                      "people."))
    size = ""
    # The scrutiny panel gets no referral count outside the protected pack: an all-time total
    # beside the quarterly figures would let a hidden quarter be worked out.
    if "referrals" in access.capability(viewer).query_levels:
        sizes = read("snapshot_referrals").set_index("snapshot_id")["referrals"]
        size = f", {int(sizes.get(latest['snapshot_id'], 0)):,} referrals"
    notes.append(("caption", f"Data as at {latest['as_at_date']:%d/%m/%Y} (tracker snapshot "
                  f"{latest['snapshot_id']}{size})."))
    return tuple(notes)


def csv_download(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str,
                 label: str = "Download the data (CSV)") -> None:
    """A download button for the frame, or for the frame a function makes on the click. The
    file is handed over only when the button is clicked, and only once that export is in the
    access log (exports.logged_csv)."""
    viewer = data_access.current_viewer()
    logged_download(label, exports.logged_csv(frame, name, viewer.name, viewer.role,
                                              filters=shown_filters()),
                    file_name=f"{name}.csv", mime="text/csv", key=f"download_{name}")


def logged_download(label: str, give_out: Callable[[], bytes], *, file_name: str, mime: str,
                    key: str, where: object = st) -> None:
    """A download button for a logged file (exports.logged_file), which hands it over on the
    click without rerunning the page. A rerun would also be a race: the click's rerun drops the
    file's registration when it ends, and a busy server may fetch the file only after that
    (Streamlit then answers "Failed to generate file for download"). Without a rerun nothing
    else checks the session at the click, so the file is handed over only while the session
    is still signed in as it was when the button was shown (sign_in.while_signed_in)."""
    where.download_button(label, sign_in.while_signed_in(give_out, file_name),
                          file_name=file_name, mime=mime, key=key, on_click="ignore")


def shown_filters() -> dict | None:
    """The filters on screen, as the access log records them with an export."""
    filters = st.session_state.get("filters")
    return {"filters": filters.describe()} if filters else None


def person_table(frame: pd.DataFrame | pa.Table, **options) -> None:
    """A grid of person-level rows without the grid's own "Download as CSV" or cell copying,
    so csv_download (logged, neutralised) is the only way out. .streamlit/config.toml turns
    them off; a server started without that file gets them turned off here, for every
    session from its next run, and this run starts again before anything is shown."""
    if not st.get_option("client.disableDataExport"):
        st.set_option("client.disableDataExport", True)
        st.rerun()
    # A date not reached yet is an empty cell, as in the tracker, not the grid's "None".
    st.dataframe(frame, **{"placeholder": "", **options})


# Streamlit's work to send a grid grows with its rows on every rerun (about 130 ms for 100,000:
# Arrow, its bytes, the message, its hash), so a national-scale list is shown in blocks.
GRID_BLOCK_ROWS = 5_000


def in_blocks(frame: pd.DataFrame | pa.Table, key: str, order: str) -> pd.DataFrame | pa.Table:
    """The block of the frame's rows chosen in a select box drawn above the grid, when it has
    more than GRID_BLOCK_ROWS; else the whole frame. `order` says how the rows are sorted."""
    total = len(frame)
    if total <= GRID_BLOCK_ROWS:
        return frame
    first = st.selectbox(
        f"Rows shown ({order})", range(0, total, GRID_BLOCK_ROWS), key=key,
        format_func=lambda start: f"{start + 1:,} to {min(start + GRID_BLOCK_ROWS, total):,} "
                                  f"of {total:,}")
    st.caption(f"{GRID_BLOCK_ROWS:,} rows at a time. The grid's search looks within the rows "
               f"shown; the filters narrow the whole list, and the download has all {total:,}.")
    if isinstance(frame, pa.Table):
        return frame.slice(first, GRID_BLOCK_ROWS)
    return frame.iloc[first:first + GRID_BLOCK_ROWS]


# Building an Altair chart and validating it against the Vega-Lite schema was about half of a
# chart page's warm rerun, paid again by every session. The spec is built once per chart, data
# and options, in the form st.altair_chart sends (Streamlit's own conversion: its theme, the
# data as Arrow), and keyed on what the viewer may see as well as on the data, so viewers with
# the same rights share it and officers never share each other's.
@st.cache_data(max_entries=1024, ttl=3600, show_spinner=False)
def _chart_spec(key: str, _build: Callable, _frame: pd.DataFrame, _args: tuple,
                _options: dict) -> dict:
    # Only `key` is hashed by Streamlit: data_access.key_digest of everything below and the
    # viewer's cache key (hashing the frame the Streamlit way cost more than the rest).
    return vega_spec(_build(_frame, *_args, **_options))


# Altair's check of a whole spec against the Vega-Lite schema was about 45 ms of each chart
# drawn afresh. The server skips it; the tests turn it on (tests/conftest.py), so every spec
# any test draws, the crash sweeps' included, is still checked.
CHECK_SPECS_AGAINST_SCHEMA = False


def vega_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart in the form st.altair_chart sends it (Streamlit's own conversion), checked
    against the Vega-Lite schema only where CHECK_SPECS_AGAINST_SCHEMA is on."""
    return vega_charts._convert_altair_to_vega_lite_spec(
        chart if CHECK_SPECS_AGAINST_SCHEMA else _Unchecked(chart))


class _Unchecked:
    """A chart whose to_dict skips the schema check (all Streamlit's conversion calls)."""

    def __init__(self, chart: alt.TopLevelMixin):
        self.chart = chart

    def to_dict(self) -> dict:
        return self.chart.to_dict(validate=False)


def chart(build: Callable, frame: pd.DataFrame, *args: object, **options: object) -> None:
    """Draws build(frame, *args, **options), a builder from dashboard.ui.charts, across the
    page, from a spec built once per data and options for viewers with the same rights."""
    key = data_access.key_digest(data_access.scope_digest(data_access.current_viewer().cache_key()),
                                 build.__module__, build.__qualname__, frame, args,
                                 sorted(options.items()))
    st.vega_lite_chart(_chart_spec(key=key, _build=build, _frame=frame, _args=args,
                                   _options=options), width="stretch")


def fixed_table(build: Callable[[], pd.DataFrame], index: str | None = None) -> None:
    """A table of text that never changes while the server runs (build, a module's function
    of no arguments), indexed by the `index` column if given."""
    # hide_index given: otherwise Streamlit converts the table back to pandas to decide.
    st.table(_fixed_arrow(build, index), hide_index=index is None)


# Made into Arrow once per server, not on every rerun of every session: converting the
# Methodology page's two tables was a quarter of what that page of text cost each viewer.
@functools.cache
def _fixed_arrow(build: Callable[[], pd.DataFrame], index: str | None) -> pa.Table:
    frame = build()
    return pa.Table.from_pandas(frame.set_index(index) if index else frame,
                                preserve_index=bool(index))


NOTHING_MATCHES = "No referrals match these filters."


def stop_if_empty(frame: pd.DataFrame, message: str = NOTHING_MATCHES) -> pd.DataFrame:
    """The frame; or, when it has no rows, the page says so in words and ends here."""
    if frame.empty:
        st.info(message)
        st.stop()
    return frame
