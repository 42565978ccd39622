"""Outstanding work on referrals: which are waiting too long, by list and by officer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard import config


@dataclass(frozen=True)
class WorkList:
    key: str               # the `work` value in queries/my_work.sql
    title: str
    since: str             # what the days are counted from
    threshold: str | None  # config setting: listed only when waiting longer than this

    def listed_after(self) -> int:
        return config.work_threshold(self.threshold) if self.threshold else -1

    def explanation(self) -> str:
        after = self.listed_after()
        return (f"Days counted from the {self.since} to the data's as-at date"
                + (f"; listed once over {after} days." if after >= 0 else "."))


WORK_LISTS = (
    WorkList("awaiting_contact", "Waiting for first contact", "referral date", None),
    WorkList("assessed_no_next_step", "Assessed, no course or rehab admission yet",
             "police assessment", "O2R_ASSESSED_STALL_DAYS"),
    WorkList("rehab_no_exit", "In rehab too long with no exit recorded",
             "rehab admission", "O2R_REHAB_DAYS"),
    WorkList("left_rehab_no_outcome", "Left rehab, no outcome recorded", "rehab exit", None),
)
BY_KEY = {work.key: work for work in WORK_LISTS}
# Waiting-list age bands, in days waited for first contact (upper bounds, inclusive).
AGE_BANDS = ((7, "Up to 1 week"), (21, "1 to 3 weeks"), (42, "3 to 6 weeks"),
             (91, "6 to 13 weeks"), (None, "Over 13 weeks"))


def contact_reference() -> int:
    return config.work_threshold("O2R_CONTACT_REFERENCE_DAYS")


def due(items: pd.DataFrame) -> pd.DataFrame:
    """my_work's rows that are due on today's thresholds, each list oldest first."""
    # Vectorised, and sorted by Arrow (stable, like pandas' stable sort; UTF-8 byte order is
    # code point order): a Python-level map and pandas' sort of 76,000 referrals at national
    # scale took most of a cold My work page.
    position = list_position(items["work"])
    limits = np.array([w.listed_after() for w in WORK_LISTS] + [0])
    listed = (position >= 0) & (items["days_waiting"].to_numpy() > limits[position])
    out = items[listed]
    order = pc.sort_indices(pa.table({
        "list": position[listed], "days": out["days_waiting"].to_numpy(),
        "nominal_id": pa.array(out["nominal_id"], type=pa.string())}),
        sort_keys=[("list", "ascending"), ("days", "descending"),
                   ("nominal_id", "ascending")])
    return out.take(order.to_numpy()).reset_index(drop=True)


def list_position(work: pd.Series) -> np.ndarray:
    """Each row's place in WORK_LISTS (-1 for a `work` value no list has)."""
    return np.select([(work == w.key).to_numpy(dtype=bool) for w in WORK_LISTS],
                     range(len(WORK_LISTS)), -1)


def counts(due_items: pd.DataFrame, problems: pd.DataFrame) -> dict[str, int]:
    """How many referrals are on each list, and how many data-quality problems there are."""
    out = {w.title: int((due_items["work"] == w.key).sum()) for w in WORK_LISTS}
    out["Data-quality problems"] = len(problems)
    return out


def age_bands(days: pd.Series) -> np.ndarray:
    """Each number of days' band: the first whose upper bound it does not pass."""
    uppers = [upper for upper, _ in AGE_BANDS if upper is not None]
    labels = np.array([label for _, label in AGE_BANDS], dtype=object)
    return labels[np.searchsorted(uppers, days.to_numpy(dtype=float), side="left")]


def waiting_age_bands(due_items: pd.DataFrame) -> pd.DataFrame:
    """One row per officer per age band: referrals waiting for first contact that long."""
    waiting = due_items[due_items["work"] == "awaiting_contact"]
    labels = [label for _, label in AGE_BANDS]
    banded = waiting.assign(age_band=age_bands(waiting["days_waiting"]))
    table = banded.groupby(["officer", "age_band"]).size().rename("referrals").reset_index()
    table["band_order"] = table["age_band"].map(labels.index)
    return table.sort_values(["officer", "band_order"]).reset_index(drop=True)


def health_by_officer(due_items: pd.DataFrame, problems: pd.DataFrame,
                      open_caseload: pd.DataFrame) -> pd.DataFrame:
    """One row per officer: open caseload, each list's count, the longest wait for first
    contact, how many wait longer than the reference, and data-quality problems."""
    return health_table(officer_tallies(due_items, problems), open_caseload)


def officer_tallies(due_items: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """By officer with anything listed: each list's count (by key), how many wait for first
    contact longer than the reference (over_reference), the longest such wait (longest) and
    data-quality problems (problems). Small, so the caseload of any period joins it cheaply."""
    waiting = due_items[due_items["work"] == "awaiting_contact"]
    officers = pd.Index(sorted(set().union(*(frame["officer"].unique() for frame in
                                             (due_items, problems)))), name="officer")
    tallies = due_items.groupby(["officer", "work"]).size().unstack(fill_value=0).reindex(
        index=officers, columns=[w.key for w in WORK_LISTS], fill_value=0)
    tallies["over_reference"] = (waiting["days_waiting"] > contact_reference()).groupby(
        waiting["officer"]).sum().reindex(officers, fill_value=0).astype("int64")
    tallies["longest"] = waiting.groupby("officer")["days_waiting"].max().reindex(officers)
    tallies["problems"] = problems.groupby("officer").size().reindex(officers, fill_value=0)
    tallies.columns.name = None
    return tallies


def health_table(tallies: pd.DataFrame, open_caseload: pd.DataFrame) -> pd.DataFrame:
    """health_by_officer from officer_tallies and the open caseload."""
    officers = pd.Index(sorted(set(tallies.index) | set(open_caseload["officer"].unique())),
                        name="officer")
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
    (data_access.derived), so a rerun only draws it: each list's rows as the Arrow table the
    grid is sent (converting 76,000 rows from pandas on every rerun was most of a warm run)."""
    lists: dict[str, pa.Table]          # by WorkList.key: the rows shown, oldest first
    counts: dict[str, int]              # counts()
    waiting_over: int                   # waiting for first contact longer than the reference
    longest: tuple[int, str] | None     # the longest wait for first contact, and its nominal ID
    problems: pa.Table                  # the data-quality problems shown
    download: pd.DataFrame              # every list and problem, as the CSV download has them
    tallies: pd.DataFrame | None        # officer_tallies, when shown by officer
    bands: pd.DataFrame | None          # waiting_age_bands, when shown by officer


def outstanding(items: pd.DataFrame, problems: pd.DataFrame, by_officer: bool) -> Outstanding:
    """The page's content from my_work's rows and the data-quality problems. The period's
    caseload is joined on later (health_table), so a period change leaves this as it is."""
    due_items = due(items)
    position = list_position(due_items["work"])
    shown = ["nominal_id", "days_waiting", "waiting_since", "referral_date", "status"]
    if by_officer:
        shown.insert(1, "officer")
    lists = {}
    for at, work_list in enumerate(WORK_LISTS):
        columns = [c for c in shown
                   if not (c == "referral_date" and work_list.since == "referral date")]
        lists[work_list.key] = pa.Table.from_pandas(
            due_items.loc[position == at, columns], preserve_index=False)
    waiting = due_items[position == 0]
    longest = (int(waiting["days_waiting"].max()), str(waiting["nominal_id"].iloc[0])) \
        if len(waiting) else None
    problem_columns = ["nominal_id", "officer", "issue", "detail"] if by_officer else \
        ["nominal_id", "issue", "detail"]
    if not by_officer:  # an officer's own list: the query gives them no tracker rows
        problems = problems.drop(columns="source_row", errors="ignore")
    return Outstanding(
        lists=lists, counts=counts(due_items, problems),
        waiting_over=int((waiting["days_waiting"] > contact_reference()).sum()),
        longest=longest,
        problems=pa.Table.from_pandas(problems[problem_columns], preserve_index=False),
        download=download_rows(due_items, position, problems),
        tallies=officer_tallies(due_items, problems) if by_officer else None,
        bands=waiting_age_bands(due_items) if by_officer else None)


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
