"""Outcome measures: offence rates with exact Poisson intervals, after/before rate ratios,
Kaplan-Meier retention (as scipy.stats.ecdf of CensoredData) and the NDTMS-aligned shares."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from dashboard.analysis.stats import (
    exact_binomial_interval,
    exact_poisson_interval,
    wilson_interval,
)

CONFIDENCE = 0.95
RETENTION_DAYS = (21, 42, 84)  # end of the 3-week detox, six weeks, the full 12 weeks
SMALL_PEOPLE = 10
ADMITTED_GROUPS = ("Completed 12 weeks", "Left rehab early", "In rehab")
EXITED_GROUPS = ("Completed 12 weeks", "Left rehab early")
COMPARISON_GROUPS = ("Assessed, not admitted", "Referred, not assessed")
# Window lengths offered on the page, in days: the query labels exactly these in months.
WINDOW_MONTHS = {3: 91, 6: 182, 12: 365, 24: 730}


def poisson_rate_interval(events: int, person_years: float,
                          confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate per person-year; nan without exposure."""
    if not person_years or pd.isna(events):
        return (math.nan, math.nan)
    low, high = exact_poisson_interval(int(events), confidence)
    return (low / person_years, high / person_years)


def rate_ratio_interval(events: int, person_years: float, baseline_events: int,
                        baseline_person_years: float,
                        confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """After/before rate ratio and its exact conditional interval (ratio, low, high).

    Given the total of the two counts, the 'after' count is binomial with p = RR*T1 /
    (RR*T1 + T0); the Clopper-Pearson interval for p maps onto the ratio."""
    if not person_years or not baseline_person_years or pd.isna(events) \
            or pd.isna(baseline_events):
        return (math.nan, math.nan, math.nan)
    events, baseline_events = int(events), int(baseline_events)
    total = events + baseline_events
    if total == 0:
        return (math.nan, math.nan, math.nan)
    scale = baseline_person_years / person_years
    ratio = math.inf if baseline_events == 0 else events / baseline_events * scale
    low, high = exact_binomial_interval(events, total, confidence)

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * scale

    return (ratio, to_ratio(low), to_ratio(high))


def with_rates(windows: pd.DataFrame) -> pd.DataFrame:
    """The offending_windows rows with rates per person-year, exact intervals, the after/before
    rate ratio and interval, and the share of referrals with no offence in the window."""
    out = windows.copy()
    rates = [poisson_rate_interval(k, t) for k, t in zip(out["offences"], out["person_years"])]
    out["rate"] = [k / t if t else math.nan for k, t in zip(out["offences"], out["person_years"])]
    out["rate_low"] = [r[0] for r in rates]
    out["rate_high"] = [r[1] for r in rates]
    ratios = [rate_ratio_interval(k, t, k0, t0) for k, t, k0, t0 in zip(
        out["offences"], out["person_years"], out["baseline_offences"],
        out["baseline_person_years"])]
    out["rate_ratio"] = [r[0] for r in ratios]
    out["rate_ratio_low"] = [r[1] for r in ratios]
    out["rate_ratio_high"] = [r[2] for r in ratios]
    out["share_without_offence"] = [s / n if n else math.nan for s, n in zip(
        out["referrals_without_offence"], out["referrals"])]
    bounds = [wilson_interval(int(s), int(n)) for s, n in zip(
        out["referrals_without_offence"], out["referrals"])]
    out["share_without_offence_low"] = [b[0] for b in bounds]
    out["share_without_offence_high"] = [b[1] for b in bounds]
    out["small_base"] = out["referrals"] < SMALL_PEOPLE
    return out


def rate_figure(rate: float) -> str:
    """A rate a person-year: one decimal from 1 up ('7.6'); below 1, two significant figures
    ('0.016'), so that a group with recorded offences never reads as 0.0."""
    if rate == 0 or not math.isfinite(rate) or abs(rate) >= 1:
        return f"{rate:.1f}"
    return f"{rate:.{1 - math.floor(math.log10(abs(rate)))}f}"


def rate_text(rate: float, low: float, high: float) -> str:
    """'7.6 a person-year (95% CI 5.9 to 9.7)'."""
    if math.isnan(rate):
        return "no one followed up yet"
    return (f"{rate_figure(rate)} a person-year (95% CI {rate_figure(low)} to "
            f"{rate_figure(high)})")


def ratio_text(ratio: float, low: float, high: float) -> str:
    """'0.25 (95% CI 0.14 to 0.42)': after divided by before."""
    if math.isnan(ratio):
        return "not available"
    if math.isinf(ratio):
        return "not defined (no offences before)"
    return f"{ratio:.2f} (95% CI {low:.2f} to {high:.2f})"


def net_change(windows: pd.DataFrame, after_window: str, comparison_window: str) -> dict:
    """The admitted groups' change in offences a person-year (after rehab exit against the same
    people's year before referral) net of the comparison groups' change (after referral against
    before): a difference in differences of rates, per person-year. Positive = fewer offences."""
    def change(rows: pd.DataFrame) -> tuple[float, float, int]:
        years, base_years = rows["person_years"].sum(), rows["baseline_person_years"].sum()
        if not years or not base_years:
            return (math.nan, math.nan, 0)
        before = rows["baseline_offences"].sum() / base_years
        after = rows["offences"].sum() / years
        return (before, after, int(rows["referrals"].sum()))

    admitted = windows[(windows["window"] == after_window)
                       & windows["outcome_group"].isin(EXITED_GROUPS)]
    comparison = windows[(windows["window"] == comparison_window)
                         & windows["outcome_group"].isin(COMPARISON_GROUPS)]
    a_before, a_after, a_people = change(admitted)
    c_before, c_after, c_people = change(comparison)
    fall = a_before - a_after
    comparison_fall = c_before - c_after
    return {"admitted_before": a_before, "admitted_after": a_after, "admitted_people": a_people,
            "comparison_before": c_before, "comparison_after": c_after,
            "comparison_people": c_people, "admitted_fall": fall,
            "comparison_fall": comparison_fall, "net_fall": fall - comparison_fall,
            "admitted_person_years": float(admitted["person_years"].sum())}


def survival_curve(counts: pd.DataFrame, duration: str = "days", event: str = "is_event",
                   weight: str = "n") -> pd.DataFrame:
    """Kaplan-Meier survival from rows of (duration, whether the event happened, how many):
    one row per distinct time with survival (share without the event after that many days),
    its 95% log-log band, and the number still at risk. Starts at day 0 with survival 1.

    The product-limit estimate and its "exponential Greenwood" band as scipy.stats.ecdf of
    CensoredData gives them (sf and confidence_interval(method="log-log"); the same to 1e-12,
    tested), from the rows' counts rather than one entry per person. Importing scipy.stats
    cost about 1.3 CPU-s, paid by whoever first opened Outcomes on a server."""
    days = counts[duration].to_numpy(dtype=float)
    people = counts[weight].to_numpy(dtype="int64")
    ended = counts[event].to_numpy(dtype=bool)
    if people.sum() == 0:
        return pd.DataFrame(columns=["day", "survival", "low", "high", "at_risk"])
    someone = people > 0
    if np.isnan(days[someone]).any():
        raise ValueError(f"{duration} has blanks: every row needs a duration")
    times, at = np.unique(days[someone], return_inverse=True)
    followed = np.bincount(at, weights=people[someone], minlength=len(times))
    died = np.bincount(at, weights=people[someone] * ended[someone], minlength=len(times))
    # at risk at each time: everyone whose duration is that time or later
    at_risk = np.cumsum(followed[::-1])[::-1]
    everyone = np.concatenate([[at_risk[0]], at_risk]).astype("int64")
    if not died.any():  # nothing has happened: the curve stays at 1, with no band
        return pd.DataFrame({"day": np.concatenate([[0.0], times]), "survival": 1.0,
                             "low": math.nan, "high": math.nan, "at_risk": everyone})
    # scipy's curve has a point at each distinct time anyone was followed to, ended or not
    survival = np.cumprod((at_risk - died) / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        # undefined where survival is 1 or 0 (nan, as scipy leaves it)
        spread = np.sqrt(np.cumsum(died / (at_risk * (at_risk - died))) / np.log(survival) ** 2)
        centre = np.log(-np.log(survival))
        z = special.ndtri(0.5 + CONFIDENCE / 2)
        low = np.clip(np.exp(-np.exp(centre + z * spread)), 0, 1)
        high = np.clip(np.exp(-np.exp(centre - z * spread)), 0, 1)
    return pd.DataFrame({
        "day": np.concatenate([[0.0], times]),
        "survival": np.concatenate([[1.0], survival]),
        "low": np.concatenate([[math.nan], low]),
        "high": np.concatenate([[math.nan], high]),
        "at_risk": everyone,
    })


def survival_at(curve: pd.DataFrame, day: float) -> tuple[float, float, float, int]:
    """(survival, low, high, still at risk) just before `day`: the share whose time was at
    least `day` days. nan when no one was followed that long (the curve cannot say), unless
    everyone had already left: then it is known to be 0."""
    if curve.empty:
        return (math.nan, math.nan, math.nan, 0)
    if curve["day"].max() < day - 1:
        last = curve.iloc[-1]
        if last["survival"] == 0:
            return (0.0, float(last["low"]), float(last["high"]), 0)
        return (math.nan, math.nan, math.nan, 0)
    before = curve[curve["day"] < day]
    row = before.iloc[-1]
    at_risk = int(curve.loc[curve["day"] >= day, "at_risk"].iloc[0]) \
        if (curve["day"] >= day).any() else 0
    return (float(row["survival"]), float(row["low"]), float(row["high"]), at_risk)


def retention_table(stays: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Share still in rehab at 21, 42 and 84 days (stayed at least that long), with the 95%
    band and how many were still followed at that day, overall or by the column `by`."""
    groups = [("All admissions", stays)] if by is None else list(stays.groupby(by))
    rows = []
    for name, part in groups:
        curve = survival_curve(part, "days", "has_left", "admissions")
        row = {"group": str(name), "admissions": int(part["admissions"].sum()),
               "left": int(part.loc[part["has_left"], "admissions"].sum())}
        for day in RETENTION_DAYS:
            share, low, high, at_risk = survival_at(curve, day)
            row[f"retained_{day}"] = share
            row[f"retained_{day}_low"] = low
            row[f"retained_{day}_high"] = high
            row[f"at_risk_{day}"] = at_risk
        rows.append(row)
    return pd.DataFrame(rows)


def curves(stays: pd.DataFrame, by: str | None, duration: str = "days",
           event: str = "has_left", weight: str = "admissions") -> pd.DataFrame:
    """Kaplan-Meier curves, one per value of `by` (or one for everyone), stacked with a group
    column, ready for charts.retention_curves."""
    groups = [("All admissions", stays)] if by is None else list(stays.groupby(by))
    frames = [survival_curve(part, duration, event, weight).assign(group=str(name))
              for name, part in groups]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["day", "survival", "low", "high", "at_risk", "group"])
    return pd.concat(frames, ignore_index=True)


def retention_headline(table: pd.DataFrame) -> str:
    """A chart title that says what the data shows, from the overall retention row."""
    row = table.iloc[0]
    share21, share84 = row["retained_21"], row["retained_84"]
    if math.isnan(share21):
        return "Too few admissions followed for three weeks to show retention yet"
    if math.isnan(share84):
        return f"{share21:.0%} of admissions were still in rehab after 3 weeks"
    return (f"{share21:.0%} of admissions were still in rehab after 3 weeks, "
            f"{share84:.0%} after 12 weeks")


def retained_or_completed(stays: pd.DataFrame) -> dict:
    """NDTMS-aligned: of admissions that have had 12 weeks to run (or have ended), the share
    that stayed at least 84 days or left with exit reason Completed; Wilson 95% interval."""
    eligible = stays[stays["has_left"] | (stays["days"] >= 84)]
    base = int(eligible["admissions"].sum())
    met = int(eligible.loc[(eligible["days"] >= 84) | eligible["is_completed"],
                           "admissions"].sum())
    low, high = wilson_interval(met, base)
    return {"met": met, "base": base, "share": met / base if base else math.nan,
            "low": low, "high": high,
            "not_yet": int(stays["admissions"].sum()) - base}


def retention_display(table: pd.DataFrame) -> pd.DataFrame:
    """The retention table in words: share (95% band) and how many still followed, per day."""
    out = pd.DataFrame({"Group": table["group"], "Admissions": table["admissions"],
                        "Left rehab": table["left"]})
    for day in RETENTION_DAYS:
        out[f"Still in rehab at {day} days (95% band)"] = [
            _share_text(s, lo, hi) for s, lo, hi in zip(
                table[f"retained_{day}"], table[f"retained_{day}_low"],
                table[f"retained_{day}_high"])]
        out[f"Still followed at {day} days"] = table[f"at_risk_{day}"]
    return out


def _share_text(share: float, low: float, high: float) -> str:
    if math.isnan(share):
        return "not yet known"
    if math.isnan(low) or math.isnan(high):
        return f"{share:.0%}"
    return f"{share:.0%} ({low:.0%} to {high:.0%})"


def ratio_interval_text(low: float, high: float) -> str:
    """'0.14 to 0.42', or 'not available'."""
    if math.isnan(low) or math.isnan(high):
        return "not available"
    return f"{low:.2f} to {'∞' if math.isinf(high) else f'{high:.2f}'}"


def sustained_table(rated: pd.DataFrame, after_window: str | None) -> pd.DataFrame:
    """Of people followed up for the whole window after rehab exit: how many had no recorded
    offence in it, by exited group and for both together, with Wilson 95% intervals."""
    if after_window is None:
        return pd.DataFrame()
    rows = rated[(rated["window"] == after_window)
                 & rated["outcome_group"].isin(EXITED_GROUPS) & (rated["referrals"] > 0)]
    if rows.empty:
        return pd.DataFrame()
    parts = [(g, int(r["referrals_without_offence"]), int(r["referrals"]))
             for g, r in rows.set_index("outcome_group").iterrows()]
    if len(parts) > 1:
        parts.append(("Everyone who left rehab", sum(p[1] for p in parts),
                      sum(p[2] for p in parts)))
    return pd.DataFrame({
        "Group": [p[0] for p in parts],
        "Followed up": [p[2] for p in parts],
        "No recorded offence": [p[1] for p in parts],
        "Share (95% interval)": [describe_share(s, n) for _, s, n in parts]})


def describe_share(successes: int, trials: int) -> str:
    low, high = wilson_interval(successes, trials)
    text = f"{successes / trials:.0%} ({low:.0%} to {high:.0%})"
    return text + (" - base under 10" if trials < SMALL_PEOPLE else "")


def first_offence_headline(times: pd.DataFrame) -> str:
    """A title that says what the time-to-first-offence data shows."""
    followed = int(times["referrals"].sum())
    offended = int(times.loc[times["has_offended"], "referrals"].sum())
    return (f"{offended} of {followed} people who left rehab have a recorded offence since; "
            "curves show how soon")
