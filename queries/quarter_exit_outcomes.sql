-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to the
--   first or last quarter with an exit) per way of leaving rehab (Completed 12 weeks, Left rehab
--   early): exits in the quarter (by exit date), how many have been followed up for the whole
--   window after exit (exit + after_exit_days on or before the latest Connect upload's as-at date),
--   and how many of those have no police-recorded offence (Connect) in it (exit + 1 to exit +
--   after_exit_days).
-- params: $after_exit_days, $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the exit date
-- $after_exit_days is the default 182
-- access: referrals
with exits as (
    select
        rehab_exit_date,
        outcome_group,
        offences,
        coalesce(window_end <= latest_connect_as_at(), false) as is_followed_up
    from exit_offences($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                       $from_date, $to_date, coalesce($after_exit_days::integer, 182))
),

groups as (
    select * from (values ('Completed 12 weeks', 1), ('Left rehab early', 2))
        as g(outcome_group, group_order)
),

final as (
    select
        q.quarter_start,
        g.outcome_group,
        count(o.outcome_group) as exits,
        count(*) filter (where o.is_followed_up) as followed_up,
        count(*) filter (where o.is_followed_up and o.offences = 0) as without_offence,
        g.group_order
    from period_quarters($from_date, $to_date, (select min(rehab_exit_date) from exits),
                         (select max(rehab_exit_date) from exits)) q
    cross join groups g
    left join exits o
        on o.outcome_group = g.outcome_group
       and in_period(o.rehab_exit_date, q.from_date, q.to_date)
    group by q.quarter_start, g.outcome_group, g.group_order
)

select quarter_start, outcome_group, exits, followed_up, without_offence
from final
order by quarter_start, group_order
