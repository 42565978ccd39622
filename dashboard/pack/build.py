"""A quarter's pack, built now: the quarter and the seven before it gathered, each protected
once as its own pack protects it, then the headline figures (beside the previous quarter and
the same quarter a year before), the tables, the trend, the cost assumptions and caveats."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from dashboard.analysis import cost_model
from dashboard.analysis.measures import DEFINITIONS
from dashboard.pack import disclosure as rules
from dashboard.pack.disclosure import CONTROLLED
from dashboard.pack.figures import figures, flows_incomplete, shown_figures, stock_source, trend
from dashboard.pack.gathering import (
    FlowRows,
    QuarterData,
    StockRows,
    Upload,
    data_sources,
    quarter_data,
    stock_snapshot_for,
)
from dashboard.pack.kept_chains import KeptChains, Run
from dashboard.pack.model import Pack, Table
from dashboard.pack.outcome_tables import labelled, outcome_tables, protect_quarter_with_outcomes
from dashboard.pack.quarters import (
    FINANCIAL,
    Quarter,
    newest_first,
    parse_quarter,
    quarter_containing,
)
from dashboard.pack.tables import (
    AREA_TABLE,
    CASELOAD_TABLE,
    DIVERSION_TABLE,
    EARLY_TABLE,
    QUALITY_TABLE,
    History,
    QuarterFigures,
)
from dashboard.security import access
from dashboard.store import queries

TREND_QUARTERS = 8


def assumptions(completions_display: str) -> dict[str, str]:
    sources = cost_model.SOURCES
    return {
        "People counted": f"Completions of 12 weeks in the quarter: {completions_display}.",
        "Period": "One quarter, counted as a quarter of a year: each person counted is taken "
                  "to avoid a quarter of a year's theft.",
        "Annual drug spend per person": sources["annual_drug_spend_gbp"],
        "Share of retail value realised (low estimate)": sources["realised_share_high"],
        "Share of retail value realised (high estimate)": sources["realised_share_low"],
        "Staying abstinent": "Everyone counted stays off drugs and off shoplifting through the "
                             "quarter (the evaluation assumes it for good).",
        "What it is not": "The retail value of goods not stolen from shops: a saving to "
                          "retailers, not to West Midlands Police or any budget.",
    }


def coverage_table(data: QuarterData) -> pd.DataFrame:
    def row(figures: str, upload: Upload | None, kind: str, missing: str) -> dict:
        return {"Figures": figures, "Source": kind if upload else missing,
                "Upload": f"{kind} {upload.upload_id}" if upload else "none",
                "As at": f"{upload.as_at:%d/%m/%Y}" if upload else ""}
    return pd.DataFrame([
        row("Flows in the quarter, rates, cost savings", data.flows_snapshot,
            "tracker snapshot", "no tracker snapshot"),
        row("Stock at quarter end", data.stock_snapshot, "tracker snapshot",
            "no tracker snapshot taken in the quarter"),
        row("Outcomes after rehab: latest Connect extract", data.connect, "Connect upload",
            "no Connect upload"),
    ]).astype("str")


CIRCULATED_QUALITY_NOTE = ("The issues found, without their counts, which could give "
                           "withheld figures away; the internal pack and the Data page count "
                           "them.")
# Tables whose rows are listed by name (with the total last), never by size.
ROWS_BY_NAME = ("Flows by area", "Early discharges", "Caseload")


def caveats(data: QuarterData, viewer_note: str | None, how: str, threshold: int,
            quality: pd.DataFrame, demo: bool) -> list[str]:
    out = []
    if demo:
        out.append("These figures come from the synthetic demo data, not real referrals.")
    if how == CONTROLLED:
        out.append(f"For circulation: counts from 1 to {threshold - 1} are shown as "
                   f"{rules.primary_marker(threshold)}; further counts of {threshold} or more "
                   f"are withheld as {rules.SECONDARY} wherever the totals, the other tables "
                   "or a rate would give a hidden count away, and a rate resting on a "
                   f"withheld count is {rules.SECONDARY} too. Deaths are never broken down by "
                   "officer or area.")
    else:
        out.append("Exact counts, including small ones: for the steering group and internal "
                   "use only, not for circulation.")
    if viewer_note:
        out.append(viewer_note)
    quarter = data.quarter
    if data.flows_snapshot is None:
        out.append("No tracker snapshot has been uploaded: every count is zero.")
    elif data.flows_snapshot.as_at < quarter.end:
        out.append(f"The latest tracker snapshot is as at {data.flows_snapshot.as_at:%d/%m/%Y}, "
                   f"before the quarter ends on {quarter.end:%d/%m/%Y}: its flows are "
                   "incomplete.")
    out.append("Events are often recorded late, so a later snapshot can change a quarter's "
               "flows; a signed-off pack keeps the figures as they were signed off.")
    stock = data.stock_snapshot
    if stock is None:
        out.append(f"No tracker snapshot was taken between {quarter.start:%d/%m/%Y} and "
                   f"{quarter.end:%d/%m/%Y}, so stock at quarter end is not available.")
    elif stock.as_at < quarter.end:
        out.append(f"Stock figures are as at {stock.as_at:%d/%m/%Y}, "
                   f"{(quarter.end - stock.as_at).days} days before the quarter's end.")
    for record in quality.to_dict("records"):
        counted = f"{record['Referrals']} referral(s)" if "Referrals" in record \
            else "some referrals"
        out.append(f"Data quality: {counted} with an event in the quarter: "
                   f"{record['Issue'].lower()}.")
    return out


def check_viewer(viewer: access.Viewer, how: str) -> None:
    modes = access.capability(viewer).pack_modes
    if how not in modes:
        raise access.AccessDenied(
            f"The {viewer.role} role may not have the {how} pack" if modes else
            f"A quarterly pack covers the whole programme; the {viewer.role} role may not "
            "have one")


def whole_quarters_only(viewer: access.Viewer) -> bool:
    """Whether the viewer has circulated packs only, and so only of quarters the data covers
    to their end: a part quarter's protected counts beside the same quarter's once whole
    give away the counts of the weeks between, which no pack protects as a period."""
    return rules.EXACT not in access.capability(viewer).pack_modes


@dataclass
class _Chain:
    """Quarters protected one after another from the first, each after every one before it
    (`history`), or each on its own (history None)."""

    history: History | None
    next: Quarter | None = None  # a chain's first quarter not yet protected
    protected: dict[Quarter, QuarterFigures] = field(default_factory=dict)
    run: Run | None = None  # what `kept` keeps of it for the next version (kept_chains.py)


class QuarterMemo:
    """Every quarter's counts and protected figures for one version of the data, worked out
    once for every pack built from it. A controlled pack protects each quarter after every
    quarter before it, so each pack built afresh gathered and protected all of them again:
    the panel moving to another quarter paid for the programme's whole history each time.

    Whoever holds one keys it by the version of the data (data_access keeps one per database
    file version); packs read as access.PUBLICATION, so one memo serves every viewer. Safe to
    share between threads. tests/test_pack_memo.py holds every pack built through one memo,
    in any order, to the pack built afresh.

    `kept` (kept_chains.KeptChains, one per database) carries the protected quarters over to
    the memo of the next version, where their data has not changed."""

    def __init__(self, kept: KeptChains | None = None) -> None:
        self.lock = threading.Lock()
        self.kept = kept
        self.sources: tuple[list[Upload], Upload | None] | None = None
        self.data: dict[Quarter, QuarterData] = {}
        self.chains: dict[tuple, _Chain] = {}
        self.first_referral_read: tuple[dt.date | None] | None = None
        self.flow_rows: FlowRows | None = None
        self.stock_rows: StockRows | None = None

    def data_sources(self, con: duckdb.DuckDBPyConnection, reader: access.Viewer
                     ) -> tuple[list[Upload], Upload | None]:
        with self.lock:
            if self.sources is None:
                self.sources = data_sources(con, reader)
            return self.sources

    def first_referral(self, con: duckdb.DuckDBPyConnection, reader: access.Viewer
                       ) -> dt.date | None:
        """The first referral date in the latest snapshot (the one flows are counted from)."""
        with self.lock:
            if self.first_referral_read is None:
                span = queries.run(con, reader, "referral_date_span")
                first = span["first_referral_date"].iloc[0] if len(span) else None
                self.first_referral_read = (
                    None if pd.isna(first) else pd.Timestamp(first).date(),)
            return self.first_referral_read[0]

    def quarter_data(self, con: duckdb.DuckDBPyConnection, reader: access.Viewer,
                     quarter: Quarter, snapshots: list[Upload], connect: Upload | None
                     ) -> QuarterData:
        """(With the lock held.)"""
        if quarter not in self.data:
            self.data[quarter] = quarter_data(con, reader, quarter, snapshots, connect,
                                              self.flow_rows, self.stock_rows)
        return self.data[quarter]

    def gather_flows(self, con: duckdb.DuckDBPyConnection, reader: access.Viewer,
                     first: Quarter, last: Quarter, snapshots: list[Upload]) -> None:
        """(With the lock held.) Before the quarters from `first` to `last` are gathered, the
        flows of those not held yet, read at once (gathering.FlowRows), and their stock at
        each quarter end (gathering.StockRows)."""
        missing = [q for q in newest_first(first, last) if q not in self.data]
        flows = snapshots[0] if snapshots else None
        if missing and not (self.flow_rows and all(
                self.flow_rows.serves(reader, flows, q) for q in missing)):
            self.flow_rows = FlowRows(con, reader, flows, missing[-1], missing[0])
        ends = [(stock, q.end) for q in missing
                if (stock := stock_snapshot_for(snapshots, q)) is not None]
        if ends:
            self.stock_rows = StockRows(con, reader, ends)

    def chain(self, key: tuple, history: History | None, first: Quarter | None) -> _Chain:
        """(With the lock held.)"""
        if key not in self.chains:
            self.chains[key] = _Chain(history, first)
        return self.chains[key]


def chain_start(con: duckdb.DuckDBPyConnection, reader: access.Viewer,
                snapshots: list[Upload], memo: QuarterMemo, scheme: str) -> Quarter:
    """The first quarter a circulated pack protects after every one before it: the first
    referral's, or the first quarter-end snapshot's if that is earlier."""
    return quarter_containing(min(min(s.as_at for s in snapshots),
                                  memo.first_referral(con, reader) or dt.date.max), scheme)


def protected_history(con: duckdb.DuckDBPyConnection, reader: access.Viewer,
                      quarters: list[Quarter], snapshots: list[Upload], connect: Upload | None,
                      how: str, threshold: int, memo: QuarterMemo) -> list[QuarterFigures]:
    """The quarters' figures, oldest first. For circulation, each quarter from the
    programme's first referral (or first quarter-end snapshot, if earlier) on is protected
    after every one since then, as their packs printed them (stock at one quarter end and the
    flows since give the next one's, and the first stock is every flow before it); a quarter
    before that, and every quarter of an exact pack, is protected on its own. So a quarter's
    markers depend on the data alone, and it prints alike in every pack, whichever quarters
    the pack shows. Keyed by each quarter's first day, so both quarter schemes protect a
    period alike. What `memo` holds is not worked out again."""
    # From the first referral: the tracker holds every referral, so the first quarter-end
    # stock is every flow before it (tables.link_to_earlier), seen by whoever reads the packs.
    first = (chain_start(con, reader, snapshots, memo, quarters[0].scheme)
             if how == CONTROLLED and snapshots else None)

    def protect(quarter: Quarter, history: History | None) -> QuarterFigures:
        return protect_quarter_with_outcomes(
            memo.quarter_data(con, reader, quarter, snapshots, connect), how, threshold, history)

    key, kept = (how, threshold, first), memo.kept
    with memo.lock:
        # A new chain compares every quarter a kept run holds (kept_chains.py): read them too.
        last = max(quarters[-1], kept.end(key) or quarters[-1]) \
            if kept is not None and first is not None and key not in memo.chains \
            else quarters[-1]
        # From far enough back that the trend of any pack from the first quarter on is read
        # in the same run (quarters with nothing in them cost the queries almost nothing).
        memo.gather_flows(con, reader, min(quarters[0], first.shift(1 - TREND_QUARTERS))
                          if first is not None else quarters[0], last, snapshots)
        alone = memo.chain((how, threshold, None), None, None)
        chained = None
        if first is not None and quarters[-1] >= first:
            chained = memo.chain(key, History(rules.Publication(threshold)), first)
            latest = quarter_containing(snapshots[0].as_at, first.scheme)
            try:
                if kept is not None and chained.run is None:
                    kept.resume(key, chained, lambda q: memo.quarter_data(
                        con, reader, q, snapshots, connect), latest)
                while chained.next <= quarters[-1]:
                    quarter = chained.next
                    if kept is not None:
                        kept.before(chained, latest)
                    figures = protect(quarter, chained.history)
                    chained.history.record(quarter.start.isoformat(), figures)
                    chained.protected[quarter], chained.next = figures, quarter.shift(1)
                    if kept is not None:
                        kept.after(chained, figures)
            except BaseException:
                del memo.chains[key]  # a history half recorded is not one to build on
                raise
        out = []
        for quarter in quarters:
            if chained is not None and quarter >= first:
                out.append(chained.protected[quarter])
            else:
                if quarter not in alone.protected:
                    alone.protected[quarter] = protect(quarter, None)
                out.append(alone.protected[quarter])
        return out


def protect_ahead(con: duckdb.DuckDBPyConnection, memo: QuarterMemo) -> None:
    """Protects, into `memo`, every quarter up to the data's latest (of the financial year,
    the pack's default), as the first circulated pack of it would: what the panel's and
    steering's first packs of this version then take from the memo. A quarter at a time,
    each pack taking the memo's lock once, so a pack asked for meanwhile (an exact one, or
    one whose quarters are done) waits for one quarter, not the whole history."""
    reader = access.PUBLICATION
    snapshots, _ = memo.data_sources(con, reader)
    if not snapshots:
        return
    quarter, latest = (chain_start(con, reader, snapshots, memo, FINANCIAL),
                       quarter_containing(snapshots[0].as_at))
    while quarter <= latest:
        build_pack(con, reader, quarter, memo=memo)
        quarter = quarter.shift(1)


def build_pack(con: duckdb.DuckDBPyConnection, viewer: access.Viewer, quarter: str | Quarter,
               scheme: str = FINANCIAL, disclosure: str = CONTROLLED,
               threshold: int = rules.DEFAULT_THRESHOLD, memo: QuarterMemo | None = None
               ) -> Pack:
    """The quarter's pack computed now from the data `con` holds, as `viewer` may see it.

    `disclosure` is "controlled" (for circulation: small counts hidden) or "exact". Counts
    are read exact and programme-wide (the viewer's role decides only which disclosure it
    may have), then protected quarter by quarter. `memo` (QuarterMemo) holds what packs
    built before on the same version of the data worked out."""
    how = disclosure
    rules.check(how, threshold)
    check_viewer(viewer, how)
    quarter = parse_quarter(quarter, scheme)
    reader = access.PUBLICATION
    memo = memo or QuarterMemo()
    snapshots, connect = memo.data_sources(con, reader)
    if whole_quarters_only(viewer) and snapshots and snapshots[0].as_at < quarter.end:
        raise access.AccessDenied(
            f"{quarter.label} is not over in the data (the latest tracker snapshot is as at "
            f"{snapshots[0].as_at:%d/%m/%Y}): the {viewer.role} role has a quarter's pack "
            "once the data covers all of it")
    quarters = [quarter.shift(k - TREND_QUARTERS + 1) for k in range(TREND_QUARTERS)]
    history = protected_history(con, reader, quarters, snapshots, connect, how, threshold,
                                memo)
    shown = [shown_figures(q) for q in history]
    part = [flows_incomplete(q.data) for q in history]  # quarters not over in the data
    now = history[-1]
    tables = [
        Table("Flows by area", "Referrals, police assessments and rehab admissions in the "
              "quarter by offending area", "Each counted by its own event date; areas with "
              "none of the three are left out.", labelled(now.table(AREA_TABLE),
                                                           "Offending area")),
        Table("Early discharges", "Early discharges from rehab in the quarter by reason",
              # Not the measure's definition, which points the reader to this very table.
              "Rehab exits in the quarter with any reason but Completed (or none recorded), "
              "by exit date.", labelled(now.table(EARLY_TABLE), "Reason")),
        Table("Diversions", "Diversions in the quarter by kind", DEFINITIONS["Diversions"],
              labelled(now.table(DIVERSION_TABLE), "Outcome")),
    ]
    if CASELOAD_TABLE in now.counts:
        tables.append(Table("Caseload", "Caseload at quarter end by officer and status",
                            f"Every referral held in {stock_source(now.data)}, by its status "
                            "then.", labelled(now.table(CASELOAD_TABLE), "Officer")))
    tables += outcome_tables(now)
    quality = labelled(now.table(QUALITY_TABLE), "Issue")
    quality_note = "A referral can have more than one issue; the Data page lists them."
    if how == CONTROLLED:
        # Each count bounds withheld figures from above (every referral with no offending area
        # is one, and the area table's Not recorded row counts some of them): printed beside
        # a [c] of 5 or more, a count of 5 pinned that row, and the rest of the table with it.
        quality, quality_note = quality[["Issue"]], CIRCULATED_QUALITY_NOTE
    tables += [
        Table("Data coverage", "Where each group of figures comes from",
              "Flows use the latest snapshot when the pack was built; stock the latest taken "
              "in the quarter.", coverage_table(now.data)),
        Table("Data quality", "Data-quality warnings for referrals with an event in the "
              "quarter", quality_note, quality),
    ]
    if how == CONTROLLED:
        tables.append(Table("Symbols", "What the symbols in this pack mean",
                            "Government Statistical Service symbols for tables.",
                            pd.DataFrame({"Symbol": list(rules.legend(threshold)),
                                          "Meaning": list(rules.legend(threshold).values())})))
    demo = bool(queries.run(con, reader, "demo_only")["demo_only"].iloc[0]) if snapshots \
        else False
    return Pack(
        quarter=quarter.label, start=quarter.start, end=quarter.end, scheme=quarter.scheme,
        snapshot_id=now.data.stock_snapshot.upload_id if now.data.stock_snapshot else None,
        snapshot_as_at=now.data.stock_snapshot.as_at if now.data.stock_snapshot else None,
        connect_upload_id=connect.upload_id if connect else None,
        generated_at=dt.datetime.now().replace(microsecond=0),
        disclosure=how, threshold=threshold,
        figures=figures(shown[-1], shown[-2], shown[-5], part[-1]),
        tables=tables, trend=trend(shown, quarters, part),
        assumptions=assumptions(shown[-1].values["Completions of 12 weeks"][1]),
        caveats=caveats(now.data, None, how, threshold, quality, demo),
        part_quarter_to=now.data.flows_snapshot.as_at if part[-1] else None,
        demo=demo)
