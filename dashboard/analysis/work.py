"""Outstanding work on referrals: which are waiting too long, by list and by officer."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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
    limits = items["work"].map({w.key: w.listed_after() for w in WORK_LISTS})
    out = items[items["days_waiting"] > limits]
    order = {w.key: i for i, w in enumerate(WORK_LISTS)}
    return out.assign(_order=out["work"].map(order)).sort_values(
        ["_order", "days_waiting", "nominal_id"], ascending=[True, False, True],
        kind="stable").drop(columns="_order").reset_index(drop=True)


def counts(due_items: pd.DataFrame, problems: pd.DataFrame) -> dict[str, int]:
    """How many referrals are on each list, and how many data-quality problems there are."""
    out = {w.title: int((due_items["work"] == w.key).sum()) for w in WORK_LISTS}
    out["Data-quality problems"] = len(problems)
    return out


def age_band(days: int) -> str:
    return next(label for upper, label in AGE_BANDS if upper is None or days <= upper)


def waiting_age_bands(due_items: pd.DataFrame) -> pd.DataFrame:
    """One row per officer per age band: referrals waiting for first contact that long."""
    waiting = due_items[due_items["work"] == "awaiting_contact"]
    labels = [label for _, label in AGE_BANDS]
    banded = waiting.assign(age_band=waiting["days_waiting"].map(age_band))
    table = banded.groupby(["officer", "age_band"]).size().rename("referrals").reset_index()
    table["band_order"] = table["age_band"].map(labels.index)
    return table.sort_values(["officer", "band_order"]).reset_index(drop=True)


def health_by_officer(due_items: pd.DataFrame, problems: pd.DataFrame,
                      open_caseload: pd.DataFrame) -> pd.DataFrame:
    """One row per officer: open caseload, each list's count, the longest wait for first
    contact, how many wait longer than the reference, and data-quality problems."""
    reference = contact_reference()
    waiting = due_items[due_items["work"] == "awaiting_contact"]
    officers = sorted(set(open_caseload["officer"]) | set(due_items["officer"])
                      | set(problems["officer"]))
    rows = []
    for officer in officers:
        mine = due_items[due_items["officer"] == officer]
        waits = waiting.loc[waiting["officer"] == officer, "days_waiting"]
        row = {"Officer": officer,
               "Open caseload": int(open_caseload.loc[open_caseload["officer"] == officer,
                                                      "open_referrals"].sum()),
               WORK_LISTS[0].title: len(waits),
               f"Waiting over {reference} days": int((waits > reference).sum()),
               "Longest wait (days)": int(waits.max()) if len(waits) else None}
        row |= {w.title: int((mine["work"] == w.key).sum()) for w in WORK_LISTS[1:]}
        row["Data-quality problems"] = int((problems["officer"] == officer).sum())
        rows.append(row)
    return pd.DataFrame(rows)
