-- grain: one row per outcome group (the two that left rehab) per days after rehab exit per
--   whether an offence was recorded: referrals, for Kaplan-Meier time to the first
--   police-recorded offence (Connect) after exit. Someone with none is censored at the latest
--   Connect upload's as-at date; exits after that date are left out (no follow-up yet).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the exit date
-- access: referrals
--
-- The first offence after each exit comes from window_facts (found when data lands, for the
-- latest snapshot in force) whenever it fits; for any other snapshot, from the crimes.
with facts_fit as (
    select coalesce($snapshot_id::integer = (
        select upload_id from uploads
        where kind = 'tracker'
          and upload_id not in (select snapshot_id from snapshot_withdrawals)
        order by as_at_date desc, upload_id desc
        limit 1), false) as fits
),

from_facts as (
    -- one row per person, exit and group, as exit_offences gives them
    select
        e.outcome_group, e.rehab_exit_date, latest_connect_as_at() as connect_as_at,
        min(f.first_offence_after_exit) as first_offence_date
    from rehab_exits($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                     $from_date, $to_date) e
    left join window_facts f
        on f.snapshot_id = $snapshot_id::integer
       and f.nominal_id = e.nominal_id
       and f.referral_date = e.referral_date
    where (select fits from facts_fit)
      and e.rehab_exit_date < latest_connect_as_at()
    group by e.nominal_id, e.rehab_exit_date, e.outcome_group
),

from_crimes as (
    select outcome_group, rehab_exit_date, window_end as connect_as_at, first_offence_date
    -- with no window length, the window runs to the latest Connect upload's as-at date; with
    -- the facts fitting, no snapshot (-1) is asked for, so no crime is read
    from exit_offences(case when (select fits from facts_fit) then -1 else $snapshot_id end,
                       $scope_officers, $officer, $area, $referral_source,
                       $from_date, $to_date, null)
    where rehab_exit_date < latest_connect_as_at()
),

first_offence as (
    select * from from_facts
    union all
    select * from from_crimes
),

final as (
    select
        outcome_group,
        date_diff('day', rehab_exit_date, coalesce(first_offence_date, connect_as_at)) as days,
        first_offence_date is not null as has_offended,
        count(*) as referrals
    from first_offence
    group by all
)

select * from final
order by outcome_group, days, has_offended
