-- grain: one row per completed week in rehab per way of leaving: referrals who left rehab after
--   that many whole weeks (weeks 12+ grouped), for admissions in the period (by admission
--   date).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with left_rehab as (
    select
        least(date_diff('day', rehab_admission_date, rehab_exit_date) // 7, 12) as weeks,
        case when rehab_exit_reason = 'Completed' then 'Completed 12 weeks'
             else rehab_exit_reason end as way_of_leaving
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where rehab_admission_date is not null
      and rehab_exit_date is not null
      and in_period(rehab_admission_date, $from_date, $to_date)
),

final as (
    select weeks, way_of_leaving, count(*) as referrals
    from left_rehab
    group by all
)

select * from final
order by weeks, way_of_leaving
