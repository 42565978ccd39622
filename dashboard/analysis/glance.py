"""The at-a-glance figures: a quarter against the one before and the same one a year ago,
trends, targets' red/amber/green, waiting time to first contact, and "what changed" in words."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import pandas as pd

from dashboard.analysis.periods import Period, quarter_containing, shift_quarter
from dashboard.analysis.stats import exact_binomial_interval

STEPS = ("Referrals", "Contacted", "Assessed", "Entered rehab", "Completed 12 weeks")
CONTACT_REFERENCE_DAYS = 21
STALE_AFTER_DAYS = 45
TREND_QUARTERS = 8


def quarter_choices(first: dt.date, as_at: dt.date) -> list[Period]:
    """Every quarter from the first referral's to the as-at date's, newest first."""
    return list(_quarter_choices(first, as_at))


@functools.lru_cache(maxsize=64)  # asked on every rerun of the Overview, for the same dates
def _quarter_choices(first: dt.date, as_at: dt.date) -> tuple[Period, ...]:
    out, quarter = [], quarter_containing(as_at)
    while quarter.end >= first:
        out.append(quarter)
        quarter = shift_quarter(quarter, -1)
    return tuple(out)


def latest_complete(as_at: dt.date) -> Period:
    """The newest quarter that ended on or before the data's as-at date."""
    quarter = quarter_containing(as_at)
    return quarter if quarter.end <= as_at else shift_quarter(quarter, -1)


def default_choice(choices: list[Period], as_at: dt.date) -> int:
    """The index of the latest complete quarter among the choices; the newest choice when the
    data has none (every referral so far is in the quarter not yet over)."""
    latest = latest_complete(as_at)
    return next((i for i, q in enumerate(choices) if q == latest), 0)


def is_complete(quarter: Period, as_at: dt.date) -> bool:
    return quarter.end <= as_at


@dataclass(frozen=True)
class Headline:
    step: str
    value: int
    previous: int
    last_year: int
    trend: list[int]  # the TREND_QUARTERS quarters up to and including this one


def headlines(by_quarter: pd.DataFrame, quarter: Period) -> list[Headline]:
    """Each step's count in the quarter, the quarter before, the same quarter a year before,
    and its recent trend; by_quarter from quarterly_headlines."""
    counts = {(row.step, pd.Timestamp(row.quarter_start).date()): int(row.referrals)
              for row in by_quarter.itertuples()}

    def count(step: str, period: Period) -> int:
        return counts.get((step, period.start), 0)

    trend_quarters = [shift_quarter(quarter, -back) for back in range(TREND_QUARTERS - 1, -1, -1)]
    previous, year_ago = shift_quarter(quarter, -1), shift_quarter(quarter, -4)
    return [Headline(step, count(step, quarter), count(step, previous), count(step, year_ago),
                     [count(step, q) for q in trend_quarters])
            for step in STEPS]


def trend_frames(figures: list[Headline], labels: tuple[str, ...]) -> list[pd.DataFrame]:
    """Each headline's recent trend, its last len(labels) quarters, as a frame of quarter
    label and count (a sparkline's)."""
    return [pd.DataFrame({"quarter": list(labels), "referrals": figure.trend[-len(labels):]})
            for figure in figures]


def change_interval(now: int, before: int, confidence: float = 0.95) -> tuple[float, float]:
    """A likely range for the ratio now/before of two counts, treating each as a Poisson count
    over equal time: given their total, `now` is binomial, and its exact (Clopper-Pearson)
    interval for the share p becomes one for p / (1 - p)."""
    total = now + before
    if not total:
        return (0.0, float("inf"))
    low, high = exact_binomial_interval(now, total, confidence)
    return (low / (1 - low) if low < 1 else float("inf"),
            high / (1 - high) if high < 1 else float("inf"))


SMALL_TOTAL = 10  # two counts adding to fewer than this say little about a change


def change_sentence(step: str, now: int, before: int, now_label: str,
                    before_label: str) -> str:
    """One plain sentence: how the count changed, its likely range, and whether chance alone
    would explain it."""
    if now == before:
        return f"{step}: {now:,} in {now_label}, the same as in {before_label}."
    direction = "rose" if now > before else "fell"
    sentence = f"{step} {direction} from {before:,} in {before_label} to {now:,} in {now_label}"
    if now + before < SMALL_TOTAL:
        return sentence + ": too few to tell a real change from chance."
    low, high = change_interval(now, before)
    if before and high != float("inf"):
        sentence += (f" (likely range for the change: {percent(low - 1)} to "
                     f"{percent(high - 1)})")
    if low > 1 or high < 1:
        return sentence + ": more than chance alone would explain."
    return sentence + ": chance alone could explain a change this size."


def percent(change: float) -> str:
    return f"{change:+.0%}"


def rag(value: int, target: int | None, amber_share: float, complete: bool) -> str | None:
    """'green' at or above target, 'amber' within amber_share of it, else 'red'; None when
    no target is set or the quarter is not over (a part-quarter would look red)."""
    if target is None or not complete:
        return None
    if value >= target:
        return "green"
    return "amber" if value >= amber_share * target else "red"


def contact_wait(waits: pd.DataFrame, quarter: Period,
                 reference: int = CONTACT_REFERENCE_DAYS) -> dict | None:
    """First contacts in the quarter: how many, the median days waited, and how many within
    the reference; waits from first_contact_wait. None if nobody was first contacted."""
    rows = waits[pd.to_datetime(waits["quarter_start"]).dt.date == quarter.start]
    total = int(rows["referrals"].sum())
    if not total:
        return None
    ordered = rows.sort_values("days_waited")
    cumulative = ordered["referrals"].cumsum()
    median = float(ordered["days_waited"][cumulative >= total / 2].iloc[0])
    within = int(rows.loc[rows["days_waited"] <= reference, "referrals"].sum())
    return {"contacted": total, "median_days": median, "within_reference": within,
            "reference": reference}


def freshness(uploads: pd.DataFrame, today: dt.date,
              stale_after: int = STALE_AFTER_DAYS) -> list[dict]:
    """For the tracker and Connect: the as-at date, its age in days, and whether it is stale;
    uploads from data_freshness."""
    out = []
    for kind, name in (("tracker", "Tracker"), ("connect", "Connect")):
        row = uploads[uploads["kind"] == kind]
        if row.empty:
            out.append({"name": name, "as_at": None, "age_days": None, "stale": True})
            continue
        as_at = pd.Timestamp(row["as_at_date"].iloc[0]).date()
        age = (today - as_at).days
        out.append({"name": name, "as_at": as_at, "age_days": age, "stale": age > stale_after})
    return out
