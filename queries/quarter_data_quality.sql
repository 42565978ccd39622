-- grain: one row per data-quality issue: referrals in the snapshot with a dated event in the
--   period that show it (the checks of data_quality.sql, counted: no nominal IDs).
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with scoped as (
    select r.*, uploads.as_at_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null) r
    inner join uploads on uploads.upload_id = r.snapshot_id
),

events as (
    select nominal_id, referral_date,
           unnest([referral_date, first_contact_date, assessment_date, pre_admission_start_date,
                   rehab_assessment_date, rehab_admission_date, rehab_exit_date]) as event_date
    from scoped
),

touched as (
    select distinct nominal_id, referral_date
    from events
    where event_date between coalesce($from_date::date, event_date)
                         and coalesce($to_date::date, event_date)
),

snapshot as (
    select scoped.*
    from scoped
    semi join touched using (nominal_id, referral_date)
),

issues as (
    select 'Exit reason but no exit date' as issue
    from snapshot
    where rehab_exit_reason is not null and rehab_exit_date is null

    union all
    select 'Active but outcome says the case ended'
    from snapshot
    where status = 'Active'
      and outcome in ('Withdrawn', 'Deceased', 'Not interested', 'Did not meet criteria')

    union all
    select 'Referral/Waiting but already assessed or admitted'
    from snapshot
    where status = 'Referral/Waiting'
      and (assessment_date is not null or rehab_admission_date is not null)

    union all
    select 'Admitted to rehab with no police assessment date'
    from snapshot
    where rehab_admission_date is not null and assessment_date is null

    union all
    select 'Admitted to rehab with no first contact date'
    from snapshot
    where rehab_admission_date is not null and first_contact_date is null

    union all
    select 'In rehab for more than 12 weeks'
    from snapshot
    where rehab_admission_date is not null
      and rehab_exit_date is null
      and rehab_exit_reason is null
      and as_at_date - rehab_admission_date > 84

    union all
    select 'Completed 12 weeks in fewer than 84 days'
    from snapshot
    where rehab_exit_reason = 'Completed'
      and rehab_exit_date - rehab_admission_date < 84

    union all
    select 'No offending area'
    from snapshot
    where offending_area is null

    union all
    select 'Officer unallocated'
    from snapshot
    where officer = 'Unallocated'

    union all
    select 'Status not recorded'
    from snapshot
    where status = 'Not recorded'
),

final as (
    select issue, count(*) as referrals
    from issues
    group by issue
)

select * from final
order by issue
