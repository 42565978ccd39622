-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to the
--   first or last quarter with a date counted) per data-quality issue: referrals in the snapshot
--   with a dated event in the quarter that show it (the rules of data_quality.sql, counted: no
--   nominal IDs; a quarter with none has no rows).
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with events as (
    select nominal_id, referral_date,
           unnest([referral_date, first_contact_date, assessment_date, pre_admission_start_date,
                   rehab_assessment_date, rehab_admission_date, rehab_exit_date]) as event_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

touched as (
    select distinct q.quarter_start, e.nominal_id, e.referral_date
    from events e
    inner join period_quarters($from_date, $to_date, (select min(event_date) from events),
                               (select max(event_date) from events)) q
        on in_period(e.event_date, q.from_date, q.to_date)
),

final as (
    select t.quarter_start, i.issue, count(*) as referrals
    from data_quality_issues($snapshot_id, $scope_officers, null, null, null) i
    inner join touched t using (nominal_id, referral_date)
    group by t.quarter_start, i.issue
)

select * from final
order by quarter_start, issue
