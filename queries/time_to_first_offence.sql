-- grain: one row per outcome group (the two that left rehab) per days after rehab exit per
--   whether an offence was recorded: referrals, for Kaplan-Meier time to the first
--   police-recorded offence (Connect) after exit. Someone with none is censored at the latest
--   Connect upload's as-at date; exits after that date are left out (no follow-up yet).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the exit date
-- access: referrals
with connect as (
    select max(as_at_date) as as_at_date
    from uploads
    where kind = 'connect'
),

exits as (
    select
        r.nominal_id,
        r.rehab_exit_date,
        case when r.rehab_exit_reason = 'Completed' then 'Completed 12 weeks'
             else 'Left rehab early' end as outcome_group,
        c.as_at_date as connect_as_at
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source) r
    cross join connect c
    where r.rehab_admission_date is not null
      and r.rehab_exit_date is not null
      and r.rehab_exit_date < c.as_at_date
      and ($from_date::date is null or r.rehab_exit_date >= $from_date::date)
      and ($to_date::date is null or r.rehab_exit_date <= $to_date::date)
),

first_offence as (
    select
        e.outcome_group,
        e.rehab_exit_date,
        e.connect_as_at,
        min(c.offence_date) as first_offence_date
    from exits e
    left join crimes c
        on c.nominal_id = e.nominal_id
       and c.offence_date > e.rehab_exit_date
       and c.offence_date <= e.connect_as_at
    group by e.outcome_group, e.nominal_id, e.rehab_exit_date, e.connect_as_at
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
