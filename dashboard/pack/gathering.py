"""The data behind a quarter: which uploads a quarter is read from, and its exact counts.

Flows (referrals received, admissions, completions...) are counted by event date in the
latest tracker snapshot, exactly as the dashboard counts them; stock (caseload, people in
rehab) comes from the latest snapshot taken on or before the quarter's last day. Every count
is read exact and programme-wide: the pack's own flows queries (BY_QUARTER) once for every
quarter a pack needs (FlowRows), the rest of measures.py's once a quarter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from dashboard.analysis.measures import (
    COUNTS,
    FLOWS_SNAPSHOT,
    MEASURES,
    RATE_OF_COUNTS,
    STOCK_SNAPSHOT,
    Rows,
    by_query,
    first,
)
from dashboard.pack.disclosure import TOTAL
from dashboard.pack.quarters import Quarter
from dashboard.security import access
from dashboard.store import queries

DIVERSIONS = ("Diverted - partner agency", "Diverted - prison")


@dataclass(frozen=True)
class Upload:
    upload_id: int
    as_at: dt.date

    def describe(self, kind: str) -> str:
        return f"{kind} {self.upload_id} (as at {self.as_at:%d/%m/%Y})"


@dataclass
class QuarterData:
    """Counts for one quarter as the viewer may see them (NaN: hidden upstream)."""

    quarter: Quarter
    flows_snapshot: Upload | None
    stock_snapshot: Upload | None
    connect: Upload | None
    counts: dict[str, object] = field(default_factory=dict)
    rates: dict[str, tuple[object, object]] = field(default_factory=dict)
    # The pack's flows tables, as its queries' columns (measures.Rows), and stock's frame.
    area_flows: Rows | None = None
    early_discharges: Rows | None = None
    diversions: Rows | None = None
    caseload: pd.DataFrame | None = None
    data_quality: Rows | None = None
    exit_outcomes: Rows | None = None
    retention: Rows | None = None


def data_sources(con: duckdb.DuckDBPyConnection, viewer: access.Viewer
                 ) -> tuple[list[Upload], Upload | None]:
    """Tracker snapshots newest first (as queries.latest_snapshot_id orders them), and the
    latest Connect upload."""
    uploads = queries.run(con, viewer, "quarter_data_sources")

    def listed(kind: str) -> list[Upload]:
        rows = uploads[uploads["kind"] == kind].sort_values(
            ["as_at_date", "upload_id"], ascending=False)
        return [Upload(int(r.upload_id), pd.Timestamp(r.as_at_date).date())
                for r in rows.itertuples()]

    connect = listed("connect")
    return listed("tracker"), (connect[0] if connect else None)


def stock_snapshot_for(snapshots: list[Upload], quarter: Quarter) -> Upload | None:
    """The latest snapshot on or before the quarter's last day, if taken within the quarter.

    A snapshot from before the quarter began says nothing about its end, so none is used."""
    for snapshot in snapshots:
        if snapshot.as_at <= quarter.end:
            return snapshot if snapshot.as_at >= quarter.start else None
    return None


# The flows queries that count each quarter of a period apart, in quarter_start order: the
# Overview's counts by quarter and the pack's own. A circulated pack protects every quarter
# since the first, and running a query once a quarter cost some 29 runs of each, most of a
# first pack's queries.
BY_QUARTER = ("quarterly_headlines", "pre_admission_course", "quarter_area_flows",
              "quarter_case_endings", "quarter_early_discharges", "quarter_rates",
              "quarter_data_quality", "quarter_exit_outcomes", "quarter_retention")


class FlowRows:
    """BY_QUARTER's rows for the quarters from `first` to `last`, each query run once over
    them all by the flows snapshot; a quarter's rows are handed out as the query run for that
    quarter alone returns them, each column a list (measures.Rows; but a text column none of
    them fills holds NaN rather than None: the pack reads such a row by its flags). Each
    column is made a list once for all the quarters: column by column for each quarter cost
    more than the lookups."""

    def __init__(self, con: duckdb.DuckDBPyConnection, viewer: access.Viewer,
                 flows: Upload | None, first: Quarter, last: Quarter) -> None:
        # Every query now: a memo's FlowRows outlives the cursor (and thread) that made it.
        self.viewer, self.flows, self.first, self.last = viewer, flows, first, last
        self.columns: dict[str, tuple[dict[str, list], np.ndarray]] = {}
        period = {"snapshot_id": flows.upload_id if flows else None,
                  "from_date": first.start, "to_date": last.end}
        for query in BY_QUARTER:
            wanted = queries.parameters(query)  # quarterly_headlines counts every quarter
            frame = queries.run(con, viewer, query, **{
                name: value for name, value in period.items() if name in wanted})
            starts = frame["quarter_start"].to_numpy()
            if (starts[1:] < starts[:-1]).any():
                raise ValueError(f"{query} must list its rows in quarter_start order")
            self.columns[query] = ({column: frame[column].tolist() for column in frame.columns
                                    if column != "quarter_start"}, starts)

    def serves(self, viewer: access.Viewer, flows: Upload | None, quarter: Quarter) -> bool:
        """Whether it holds the quarter's rows as `viewer` may see them in `flows`."""
        return (viewer == self.viewer and flows == self.flows
                and self.first.start <= quarter.start and quarter.end <= self.last.end)

    def rows(self, query: str, quarter: Quarter) -> Rows:
        columns, starts = self.columns[query]
        day = np.datetime64(quarter.start, "us")
        begin, end = np.searchsorted(starts, day, "left"), np.searchsorted(starts, day, "right")
        return {column: values[begin:end] for column, values in columns.items()}


# The stock queries, each with the query that runs it for every quarter end at once (each on
# its own quarter's snapshot): a circulated pack reads the stock at every quarter end since the
# first, and two runs a quarter were half of a first pack's queries.
STOCK_AT_ENDS = {"quarter_caseload": "quarter_end_caseloads",
                 "quarter_in_rehab": "quarter_end_in_rehab"}


class StockRows:
    """STOCK_AT_ENDS' rows for the given quarter ends, each query run once over them all, on
    each quarter's stock snapshot, and handed out as the stock query run for that quarter
    alone returns them: Table 1's frame (quarter_caseload), the people in rehab as column
    lists (quarter_in_rehab; tests/test_pack_flow_rows.py holds both to the queries alone)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, viewer: access.Viewer,
                 ends: list[tuple[Upload, dt.date]]) -> None:
        self.viewer = viewer
        self.caseloads: dict[int, pd.DataFrame] = {}
        self.in_rehab: dict[tuple[int, dt.date], Rows] = {}
        if not ends:
            return
        ids, dates = [s.upload_id for s, _ in ends], [end for _, end in ends]
        caseloads = queries.run(con, viewer, STOCK_AT_ENDS["quarter_caseload"],
                                snapshot_ids=ids)
        listed = caseloads.pop("snapshot_id").to_numpy()  # in snapshot order
        for snapshot_id in dict.fromkeys(ids):
            begin, end = (np.searchsorted(listed, snapshot_id, side) for side in ("left", "right"))
            if begin < end:  # a snapshot with no rows: the query alone says what it gives
                self.caseloads[snapshot_id] = caseloads.iloc[begin:end].reset_index(drop=True)
        counted = queries.run(con, viewer, STOCK_AT_ENDS["quarter_in_rehab"],
                              snapshot_ids=ids, to_dates=dates)
        for snapshot_id, day, n in zip(counted["snapshot_id"].tolist(),
                                       counted["to_date"].tolist(),
                                       counted["n_in_rehab"].tolist(), strict=True):
            if not pd.isna(day):
                self.in_rehab[snapshot_id, day.date()] = {"n_in_rehab": [n]}

    def caseload(self, viewer: access.Viewer, snapshot: Upload) -> pd.DataFrame | None:
        """quarter_caseload's frame for the snapshot as `viewer` may see it, or None where
        these rows do not hold it."""
        return self.caseloads.get(snapshot.upload_id) if viewer == self.viewer else None

    def people_in_rehab(self, viewer: access.Viewer, snapshot: Upload, end: dt.date
                        ) -> Rows | None:
        """quarter_in_rehab's columns for the snapshot at the end of `end`, or None."""
        return self.in_rehab.get((snapshot.upload_id, end)) if viewer == self.viewer else None


class ColumnLists(dict):
    """A query's rows as measures.Rows: each column a list, converted when first read (a
    frame's to_dict converted every column, and cost more than the lookups it saved)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__()
        self.frame = frame

    def __missing__(self, column: str) -> list:
        self[column] = values = self.frame[column].tolist()
        return values


def quarter_data(con: duckdb.DuckDBPyConnection, viewer: access.Viewer, quarter: Quarter,
                 snapshots: list[Upload], connect: Upload | None,
                 flow_rows: FlowRows | None = None, stock_rows: StockRows | None = None
                 ) -> QuarterData:
    """The quarter's counts; BY_QUARTER's rows from `flow_rows` where it serves the quarter
    (read as `viewer` from the same flows snapshot, snapshots[0]), STOCK_AT_ENDS' from
    `stock_rows` where it holds them, else run for it alone."""
    flows = snapshots[0] if snapshots else None
    if flow_rows is None or not flow_rows.serves(viewer, flows, quarter):
        flow_rows = FlowRows(con, viewer, flows, quarter, quarter)
    data = QuarterData(quarter, flows, stock_snapshot_for(snapshots, quarter), connect)
    stock = data.stock_snapshot
    at = {FLOWS_SNAPSHOT: {"snapshot_id": flows.upload_id if flows else None,
                           "from_date": quarter.start, "to_date": quarter.end},
          STOCK_SNAPSHOT: {"snapshot_id": stock.upload_id if stock else None,
                           "to_date": quarter.end}}
    frames: dict[str, pd.DataFrame] = {}
    columns: dict[str, Rows] = {}
    if stock_rows is not None and stock is not None:
        caseload = stock_rows.caseload(viewer, stock)
        if caseload is not None:
            frames["quarter_caseload"] = caseload
        in_rehab = stock_rows.people_in_rehab(viewer, stock, quarter.end)
        if in_rehab is not None:
            columns["quarter_in_rehab"] = in_rehab

    def rows(query: str, snapshot: str = FLOWS_SNAPSHOT) -> pd.DataFrame:
        if query not in frames:
            wanted = queries.parameters(query)
            frames[query] = queries.run(con, viewer, query, **{
                name: value for name, value in at[snapshot].items() if name in wanted})
        return frames[query]

    def lists(query: str, snapshot: str = FLOWS_SNAPSHOT) -> Rows:
        """The query's rows as the measures read them, each column converted once."""
        if query not in columns:
            columns[query] = flow_rows.rows(query, quarter) if query in BY_QUARTER \
                else ColumnLists(rows(query, snapshot))
        return columns[query]

    for group in by_query(COUNTS).values():
        for measure in group:
            # Never run a stock query without its snapshot: null would mean the latest.
            missing = measure.snapshot == STOCK_SNAPSHOT and stock is None
            data.counts[measure.name] = None if missing else measure.read(
                lists(measure.query, measure.snapshot))
    for measure in MEASURES:
        if measure.disclosure == RATE_OF_COUNTS:
            data.rates[measure.name] = measure.read(lists(measure.query))

    data.area_flows = lists("quarter_area_flows")
    data.early_discharges = lists("quarter_early_discharges")
    endings = lists("quarter_case_endings")
    data.diversions = {
        "outcome": [*DIVERSIONS, TOTAL], "is_total": [False, False, True],
        "referrals": [*(first(endings, "referrals", is_group_total=False, outcome=kind)
                        for kind in DIVERSIONS), data.counts["Diversions"]]}
    data.data_quality = lists("quarter_data_quality")
    data.exit_outcomes = lists("quarter_exit_outcomes")
    data.retention = lists("quarter_retention")
    if stock is not None:
        data.caseload = rows("quarter_caseload", STOCK_SNAPSHOT)
    return data
