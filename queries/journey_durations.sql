-- grain: one row per journey interval: how many referrals made it, and the median and quartiles
--   of days taken (referral -> police assessment -> rehab admission), for referrals assessed in
--   the period (by assessment date).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with assessed as (
    select *
    from assessed_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
),

intervals as (
    select 1 as step_order, 'Referral to police assessment' as interval_name,
           date_diff('day', referral_date, assessment_date) as days
    from assessed
    union all
    select 2, 'Police assessment to rehab admission',
           date_diff('day', assessment_date, rehab_admission_date)
    from assessed where rehab_admission_date is not null
    union all
    select 3, 'Referral to rehab admission',
           date_diff('day', referral_date, rehab_admission_date)
    from assessed where rehab_admission_date is not null
),

final as (
    select
        step_order, interval_name,
        count(*) as referrals,
        quantile_cont(days, 0.25) as days_q1,
        median(days) as days_median,
        quantile_cont(days, 0.75) as days_q3
    from intervals
    group by all
)

select interval_name, referrals, days_q1, days_median, days_q3 from final
order by step_order
