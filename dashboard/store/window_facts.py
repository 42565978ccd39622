"""Each referral's offences in its offending windows, counted when data lands.

queries/offending_windows.sql counts, for every referral, the Connect offences in windows
around its own dates. Counted from the crimes, that joins every referral to every one of its
person's crimes on each page view: the cost grows with the crimes stored. window_facts holds
the counts for the latest snapshot in force at the window lengths the Outcomes page offers,
rebuilt in the same transaction as every upload and withdrawal, so the default views read a
table the size of referrals x offence types. It also holds the first offence after each rehab
exit (queries/time_to_first_offence.sql). Any other snapshot or window length is counted
from the crimes, as before.
"""

from __future__ import annotations

import duckdb

# The window lengths the Outcomes page offers (outcomes.WINDOW_MONTHS), in days.
WINDOW_DAYS = (91, 182, 365, 730)

# Each window as offending_windows.sql draws it (dates inclusive), as a condition on the
# offence's days since the referral (since_referral) or since the rehab exit (since_exit).
WINDOWS = {
    **{f"before_{d}": f"since_referral between -{d} and -1" for d in WINDOW_DAYS},
    **{f"after_referral_{d}": f"since_referral between 0 and {d - 1}" for d in WINDOW_DAYS},
    "during_rehab": "in_rehab",
    **{f"after_exit_{d}": f"since_exit between 1 and {d}" for d in WINDOW_DAYS},
}

COUNTS = ",\n".join(f"count(*) filter (where {rule}) as {name}" for name, rule in WINDOWS.items())
VALUES = ",\n".join(f"sum(value_stolen_gbp) filter (where {rule}) as {name}_gbp"
                    for name, rule in WINDOWS.items())
# time_to_first_offence: the first offence after the exit, up to the latest Connect as-at date
FIRST_AFTER_EXIT = "since_exit >= 1 and offence_date <= connect_as_at"
# Each kind of window holds the shorter ones of its kind, so an offence is in some window
# exactly when it is in the longest of a kind (one test each, not one per window).
WIDEST = [WINDOWS[f"{kind}_{max(WINDOW_DAYS)}"] for kind in ("before", "after_referral",
                                                            "after_exit")]
ANY_WINDOW = " or ".join(f"({rule})" for rule in [*WIDEST, WINDOWS["during_rehab"],
                                                  FIRST_AFTER_EXIT])

REFRESH = f"""
insert into window_facts
with latest as (
    select upload_id as snapshot_id, as_at_date as tracker_as_at from uploads
    where kind = 'tracker'
      and upload_id not in (select snapshot_id from snapshot_withdrawals)
    order by as_at_date desc, upload_id desc
    limit 1
),
connect as (
    select max(as_at_date) as connect_as_at from uploads where kind = 'connect'
),
offences as (
    select
        r.snapshot_id, r.nominal_id, r.referral_date, c.offence_type, c.value_stolen_gbp,
        c.offence_date, k.connect_as_at,
        date_diff('day', r.referral_date, c.offence_date) as since_referral,
        date_diff('day', r.rehab_exit_date, c.offence_date) as since_exit,
        -- offending_windows' 'During rehab': admission to exit (or the tracker's as-at date
        -- while still in rehab), observed up to the latest Connect upload's as-at date
        coalesce(c.offence_date between r.rehab_admission_date
                 and least(coalesce(r.rehab_exit_date, l.tracker_as_at), k.connect_as_at),
                 false) as in_rehab
    from referrals r
    join latest l using (snapshot_id)
    cross join connect k
    join crimes c using (nominal_id)
)
select snapshot_id, nominal_id, referral_date, offence_type,
{COUNTS},
{VALUES},
min(offence_date) filter (where {FIRST_AFTER_EXIT}) as first_offence_after_exit
from offences
where {ANY_WINDOW}
group by all
"""  # noqa: S608 (column names and day counts from code; no value put into the text)


def refresh_window_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild window_facts for the latest tracker snapshot in force, in the same transaction
    as what changed it (an upload of either kind, or a withdrawal)."""
    con.execute("delete from window_facts")
    con.execute(REFRESH)
