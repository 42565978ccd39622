"""Outstanding work on referrals: which are waiting too long, by list and by officer."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from dashboard import config


@dataclass(frozen=True)
class WorkList:
    key: str               # the `work` value in queries/my_work.sql
    title: str
    since: str             # what the days are counted from
    threshold: str | None  # config setting: listed only when waiting longer than this
    parameter: str | None  # my_work.sql's parameter that takes the threshold

    def listed_after(self) -> int:
        return config.work_threshold(self.threshold) if self.threshold else -1

    def explanation(self) -> str:
        after = self.listed_after()
        return (f"Days counted from the {self.since} to the data's as-at date"
                + (f"; listed once over {after} days." if after >= 0 else "."))


# In my_work.sql's list_order: its rows come list by list in this order.
WORK_LISTS = (
    WorkList("awaiting_contact", "Waiting for first contact", "referral date", None, None),
    WorkList("assessed_no_next_step", "Assessed, no course or rehab admission yet",
             "police assessment", "O2R_ASSESSED_STALL_DAYS", "assessed_stall_days"),
    WorkList("rehab_no_exit", "In rehab too long with no exit recorded",
             "rehab admission", "O2R_REHAB_DAYS", "rehab_days"),
    WorkList("left_rehab_no_outcome", "Left rehab, no outcome recorded", "rehab exit", None,
             None),
)
# Waiting-list age bands, in days waited for first contact (upper bounds, inclusive).
AGE_BANDS = ((7, "Up to 1 week"), (21, "1 to 3 weeks"), (42, "3 to 6 weeks"),
             (91, "6 to 13 weeks"), (None, "Over 13 weeks"))


def contact_reference() -> int:
    return config.work_threshold("O2R_CONTACT_REFERENCE_DAYS")


def thresholds() -> dict[str, int]:
    """my_work.sql's threshold parameters on today's settings: it lists only what is due."""
    return {w.parameter: w.listed_after() for w in WORK_LISTS if w.parameter}


def band_positions(days: np.ndarray) -> np.ndarray:
    """Each number of days' place in AGE_BANDS."""
    return np.searchsorted([upper for upper, _ in AGE_BANDS if upper is not None], days,
                           side="left")


def waiting_age_bands(due_items: pd.DataFrame) -> pd.DataFrame:
    """One row per officer per age band that anyone waits in: referrals waiting for first
    contact that long, by officer and then from the shortest wait."""
    waiting = due_items[due_items["list_order"].to_numpy() == 1]  # WORK_LISTS[0]
    at, officers = pd.factorize(waiting["officer"], sort=True)
    known = at >= 0  # an officer left blank is no one's
    bands = band_positions(waiting["days_waiting"].to_numpy(dtype=float)[known])
    grid = np.bincount(at[known] * len(AGE_BANDS) + bands,
                       minlength=len(officers) * len(AGE_BANDS)).reshape(-1, len(AGE_BANDS))
    officer_at, band_at = np.nonzero(grid)  # by officer, then band
    labels = np.array([label for _, label in AGE_BANDS], dtype=object)
    return pd.DataFrame({"officer": officers.take(officer_at), "age_band": labels[band_at],
                         "referrals": grid[officer_at, band_at].astype("int64"),
                         "band_order": band_at.astype("int64")})


def health_by_officer(due_items: pd.DataFrame, problems: pd.DataFrame,
                      open_caseload: pd.DataFrame) -> pd.DataFrame:
    """One row per officer: open caseload, each list's count, the longest wait for first
    contact, how many wait longer than the reference, and data-quality problems."""
    return health_table(officer_tallies(due_items, problems), open_caseload)


def officer_tallies(due_items: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """By officer with anything listed: each list's count (by key), how many wait for first
    contact longer than the reference (over_reference), the longest such wait (longest) and
    data-quality problems (problems). Small, so the caseload of any period joins it cheaply.
    Counted with numpy over the rows the page holds already: pandas' grouping of 76,000 rows
    at national scale was a tenth of My work drawn afresh."""
    (due_at, due_names), (problem_at, problem_names) = (
        pd.factorize(frame["officer"]) for frame in (due_items, problems))
    officers = pd.Index(sorted({*due_names, *problem_names}), name="officer")
    lists = len(WORK_LISTS)
    at = officer_codes(due_at, due_names, officers)
    position = due_items["list_order"].to_numpy() - 1
    known = at >= 0  # an officer left blank is no one's
    tallies = pd.DataFrame(
        np.bincount(at[known] * lists + position[known], minlength=len(officers) * lists)
        .reshape(-1, lists), index=officers, columns=[w.key for w in WORK_LISTS])
    waiting = known & (position == 0)
    days = due_items["days_waiting"].to_numpy(dtype=float)
    tallies["over_reference"] = np.bincount(at[waiting & (days > contact_reference())],
                                            minlength=len(officers))
    longest = np.full(len(officers), np.nan)
    np.fmax.at(longest, at[waiting], days[waiting])
    tallies["longest"] = longest
    problem_at = officer_codes(problem_at, problem_names, officers)
    tallies["problems"] = np.bincount(problem_at[problem_at >= 0], minlength=len(officers))
    return tallies


def officer_codes(codes: np.ndarray, names: pd.Index, officers: pd.Index) -> np.ndarray:
    """pd.factorize's codes of some names as places in `officers` (-1 for a blank name):
    matching 60 names, not 76,000 rows."""
    return np.append(officers.get_indexer(names), -1)[codes]


def as_people_read_it(name: str) -> tuple:
    """A sort key putting numbers in names in their order: Officer 2 before Officer 10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                 for part in re.split(r"(\d+)", str(name)) if part)


def health_table(tallies: pd.DataFrame, open_caseload: pd.DataFrame) -> pd.DataFrame:
    """health_by_officer from officer_tallies and the open caseload."""
    officers = pd.Index(sorted(set(tallies.index) | set(open_caseload["officer"].unique()),
                               key=as_people_read_it), name="officer")
    if officers.empty:
        return pd.DataFrame()
    mine = tallies.reindex(officers)

    def count(column: str) -> np.ndarray:
        return mine[column].fillna(0).astype("int64").to_numpy()

    # As a table of one dict per officer had it: whole days; missing (so a float column) for
    # an officer with no one waiting; all None when no one waits for anyone.
    longest = mine["longest"]
    if longest.isna().all():
        longest = pd.Series([None] * len(longest), dtype=object)
    elif not longest.isna().any():
        longest = longest.astype("int64")
    table = pd.DataFrame({
        "Officer": officers.to_numpy(),
        "Open caseload": open_caseload.groupby("officer")["open_referrals"].sum()
        .reindex(officers, fill_value=0).astype("int64").to_numpy(),
        WORK_LISTS[0].title: count(WORK_LISTS[0].key),
        f"Waiting over {contact_reference()} days": count("over_reference"),
        "Longest wait (days)": longest.to_numpy(),
    })
    for w in WORK_LISTS[1:]:
        table[w.title] = count(w.key)
    table["Data-quality problems"] = count("problems")
    return table


@dataclass(frozen=True)
class Outstanding:
    """What the My work page shows, worked out once per data and per what the viewer may see
    (data_access.derived), so a rerun only draws it. The rows are held once, as the Arrow
    table the grid is sent (converting 76,000 rows from pandas on every rerun was most of a
    warm run); each list is a slice of it, and the download is built from it on the click
    (held ready-made, it was two thirds of what the cache stored and copied at national
    scale)."""
    due: pa.Table                       # my_work's rows: list by list, each oldest first
    list_ends: tuple[int, ...]          # where each list's rows end in `due`
    by_officer: bool                    # shown by officer (steering, admins)
    counts: dict[str, int]              # how many on each list (by title) and problems
    waiting_over: int                   # waiting for first contact longer than the reference
    longest: tuple[int, str] | None     # the longest wait for first contact, and its nominal ID
    problem_rows: pa.Table              # data_quality's rows, as the viewer may have them
    tallies: pd.DataFrame | None        # officer_tallies, when shown by officer
    bands: pd.DataFrame | None          # waiting_age_bands, when shown by officer

    @property
    def lists(self) -> dict[str, pa.Table]:
        """Each list's rows as the grid shows them, by WorkList.key."""
        shown = ["nominal_id", "days_waiting", "waiting_since", "referral_date", "status"]
        if self.by_officer:
            shown.insert(1, "officer")
        starts = (0, *self.list_ends[:-1])
        return {w.key: self.due.slice(start, end - start).select(
                    [c for c in shown if not (c == "referral_date" and w.since == "referral date")])
                for w, start, end in zip(WORK_LISTS, starts, self.list_ends, strict=True)}

    @property
    def problems(self) -> pa.Table:
        """The data-quality problems as the grid shows them."""
        return self.problem_rows.select(["nominal_id", "officer", "issue", "detail"]
                                        if self.by_officer else ["nominal_id", "issue", "detail"])

    def download(self) -> pd.DataFrame:
        """Every list's rows and every problem, as the CSV download has them."""
        due = self.due.to_pandas()
        return download_rows(due.drop(columns="list_order"),
                             due["list_order"].to_numpy() - 1, self.problem_rows.to_pandas())


def outstanding(items: pd.DataFrame, problems: pd.DataFrame, by_officer: bool) -> Outstanding:
    """The page's content from my_work's rows (read with thresholds(): only what is due, list
    by list) and the data-quality problems. The period's caseload is joined on later
    (health_table), so a period change leaves this as it is."""
    list_order = items["list_order"].to_numpy()
    list_ends = tuple(int(end) for end in
                      np.searchsorted(list_order, range(1, len(WORK_LISTS) + 1), side="right"))
    waiting = items.iloc[:list_ends[0]]
    if not by_officer:  # an officer's own list: the query gives them no tracker rows
        problems = problems.drop(columns="source_row", errors="ignore")
    return Outstanding(
        due=pa.Table.from_pandas(items, preserve_index=False), list_ends=list_ends,
        by_officer=by_officer,
        counts={**{w.title: end - start for w, start, end in
                   zip(WORK_LISTS, (0, *list_ends[:-1]), list_ends, strict=True)},
                "Data-quality problems": len(problems)},
        waiting_over=int((waiting["days_waiting"] > contact_reference()).sum()),
        longest=(int(waiting["days_waiting"].iloc[0]), str(waiting["nominal_id"].iloc[0]))
        if len(waiting) else None,
        problem_rows=pa.Table.from_pandas(problems, preserve_index=False),
        tallies=officer_tallies(items, problems) if by_officer else None,
        bands=waiting_age_bands(items) if by_officer else None)


def download_rows(due_items: pd.DataFrame, position: np.ndarray,
                  problems: pd.DataFrame) -> pd.DataFrame:
    """Every list's rows and every problem, each named by its list, as the download has them.
    The list names are a category (not 76,000 strings made at national scale), and the
    whole-number columns stay whole where the other kind of row leaves them blank."""
    names = pd.CategoricalDtype([*(w.title for w in WORK_LISTS), "Data-quality problem"])
    download = pd.concat([
        due_items.assign(work=pd.Categorical.from_codes(position, dtype=names)),
        problems.assign(work=pd.Categorical.from_codes(
            np.full(len(problems), len(WORK_LISTS)), dtype=names))], ignore_index=True)
    whole = [c for c in ("days_waiting", "source_row") if c in download.columns]
    return download.astype(dict.fromkeys(whole, "Int64"))
