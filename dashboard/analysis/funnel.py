"""The cohort funnel: how far the people in a cohort have got, as counts and rates."""

from __future__ import annotations

import pandas as pd

from dashboard.analysis import stats


def funnel_table(rows: pd.DataFrame) -> pd.DataFrame:
    """cohort_funnel's rows with step_order, each step's share of the cohort and of the step
    before (95% Wilson intervals), and the text printed beside each bar."""
    out = rows.reset_index(drop=True).copy()
    out["step_order"] = range(len(out))
    out["previous"] = out["reached"].shift(1).fillna(out["cohort_size"]).astype("int64")
    of_cohort = stats.with_rates(out, "reached", "cohort_size", "share")
    of_previous = stats.with_rates(out, "reached", "previous", "step_rate")
    for column in ("share", "share_low", "share_high"):
        out[column] = of_cohort[column]
    for column in ("step_rate", "step_rate_low", "step_rate_high"):
        out[column] = of_previous[column]
    out["share_text"] = [f"{r.reached:,} ({r.share:.0%})" if r.cohort_size else f"{r.reached:,}"
                         for r in out.itertuples()]
    return out


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """funnel_table's steps as the Overview lists them, with each share in words."""
    return table.assign(
        of_cohort=[stats.describe_rate(r.reached, r.cohort_size) for r in table.itertuples()],
        of_previous=[stats.describe_rate(r.reached, r.previous) for r in table.itertuples()],
    )[["step", "reached", "in_progress", "of_cohort", "of_previous"]].rename(columns={
        "step": "Step", "reached": "Got at least this far",
        "in_progress": "Stopped here, case still open", "of_cohort": "Share of the cohort",
        "of_previous": "Share of the step before"})
