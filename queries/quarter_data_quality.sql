-- grain: one row per data-quality issue: referrals in the snapshot with a dated event in the
--   period that show it (the rules of data_quality.sql, counted: no nominal IDs).
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with events as (
    select nominal_id, referral_date,
           unnest([referral_date, first_contact_date, assessment_date, pre_admission_start_date,
                   rehab_assessment_date, rehab_admission_date, rehab_exit_date]) as event_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

touched as (
    select distinct nominal_id, referral_date
    from events
    where in_period(event_date, $from_date, $to_date)
),

final as (
    select issue, count(*) as referrals
    from data_quality_issues($snapshot_id, $scope_officers, null, null, null)
    semi join touched using (nominal_id, referral_date)
    group by issue
)

select * from final
order by issue
