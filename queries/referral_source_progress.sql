-- grain: one row per referral source: referrals (by referral date) and how many of them were
--   assessed, entered rehab and completed 12 weeks (by the snapshot date).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with final as (
    select
        referral_source,
        count(*) as referrals,
        count(assessment_date) as assessed,
        count(rehab_admission_date) as entered_rehab,
        count(*) filter (where rehab_exit_reason = 'Completed') as completed
    from referred_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
    group by referral_source
)

select * from final
order by referrals desc, referral_source
