-- grain: one row per referral per data-quality issue in the snapshot (the latest unless
--   $snapshot_id).
-- params: $snapshot_id, $scope_officers
-- access: person
-- These checks do not reject an upload (ingest does that) but the rows deserve a look.
with snapshot as (
    select r.*, uploads.as_at_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null) r
    inner join uploads on uploads.upload_id = r.snapshot_id
),

issues as (
    select nominal_id, officer, referral_date, source_row,
           'Exit reason but no exit date' as issue,
           'Exit reason ' || rehab_exit_reason || ', no rehab exit date' as detail
    from snapshot
    where rehab_exit_reason is not null and rehab_exit_date is null

    union all
    select nominal_id, officer, referral_date, source_row,
           'Active but outcome says the case ended',
           'Status Active, outcome ' || outcome
    from snapshot
    where status = 'Active'
      and outcome in ('Withdrawn', 'Deceased', 'Not interested', 'Did not meet criteria')

    union all
    select nominal_id, officer, referral_date, source_row,
           'Referral/Waiting but already assessed or admitted',
           concat_ws('; ',
                     'Status Referral/Waiting',
                     'assessed ' || strftime(assessment_date, '%d/%m/%Y'),
                     'admitted to rehab ' || strftime(rehab_admission_date, '%d/%m/%Y'))
    from snapshot
    where status = 'Referral/Waiting'
      and (assessment_date is not null or rehab_admission_date is not null)

    union all
    select nominal_id, officer, referral_date, source_row,
           'Admitted to rehab with no police assessment date',
           'Admitted to rehab ' || strftime(rehab_admission_date, '%d/%m/%Y')
    from snapshot
    where rehab_admission_date is not null and assessment_date is null

    union all
    select nominal_id, officer, referral_date, source_row,
           'Admitted to rehab with no first contact date',
           'Admitted to rehab ' || strftime(rehab_admission_date, '%d/%m/%Y')
    from snapshot
    where rehab_admission_date is not null and first_contact_date is null

    union all
    select nominal_id, officer, referral_date, source_row,
           'In rehab for more than 12 weeks',
           'Admitted ' || strftime(rehab_admission_date, '%d/%m/%Y') || ', no exit date: '
           || (as_at_date - rehab_admission_date) || ' days by the as-at date '
           || strftime(as_at_date, '%d/%m/%Y')
    from snapshot
    where rehab_admission_date is not null
      and rehab_exit_date is null
      and rehab_exit_reason is null  -- an exit reason with no date is flagged above
      and as_at_date - rehab_admission_date > 84

    union all
    select nominal_id, officer, referral_date, source_row,
           'Completed 12 weeks in fewer than 84 days',
           'Exit reason Completed after ' || (rehab_exit_date - rehab_admission_date)
           || ' days in rehab (admitted ' || strftime(rehab_admission_date, '%d/%m/%Y')
           || ', left ' || strftime(rehab_exit_date, '%d/%m/%Y') || ')'
    from snapshot
    where rehab_exit_reason = 'Completed'
      and rehab_exit_date - rehab_admission_date < 84

    union all
    select nominal_id, officer, referral_date, source_row,
           'No offending area',
           'Offending area is blank'
    from snapshot
    where offending_area is null

    union all
    select nominal_id, officer, referral_date, source_row,
           'Officer unallocated',
           'No officer assigned'
    from snapshot
    where officer = 'Unallocated'

    union all
    select nominal_id, officer, referral_date, source_row,
           'Status not recorded',
           'Status is blank'
    from snapshot
    where status = 'Not recorded'
),

final as (
    select nominal_id, officer, referral_date, issue, detail, source_row
    from issues
)

select * from final
order by issue, referral_date, nominal_id
