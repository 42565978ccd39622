-- grain: one row per referral per piece of outstanding work in the snapshot (the latest unless
--   $snapshot_id), with the days it has waited by the snapshot's as-at date. The thresholds
--   (how long is too long) are applied by dashboard/work.py, so they stay configurable.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source
-- access: person
with snapshot as (
    select r.*, uploads.as_at_date,
           -- open: not closed by status, and no outcome that ends the case
           r.status not in ('Inactive', 'Withdrawn')
           and (r.outcome is null or r.outcome = 'Ongoing engagement') as is_open
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source) r
    inner join uploads on uploads.upload_id = r.snapshot_id
),

items as (
    select 'awaiting_contact' as work, nominal_id, officer, referral_date, status,
           referral_date as waiting_since, as_at_date
    from snapshot
    where is_open and first_contact_date is null

    union all
    select 'assessed_no_next_step', nominal_id, officer, referral_date, status,
           assessment_date, as_at_date
    from snapshot
    where is_open and assessment_date is not null
      and pre_admission_start_date is null and rehab_admission_date is null

    union all
    select 'rehab_no_exit', nominal_id, officer, referral_date, status,
           rehab_admission_date, as_at_date
    from snapshot
    where rehab_admission_date is not null and rehab_exit_date is null
      and rehab_exit_reason is null

    union all
    select 'left_rehab_no_outcome', nominal_id, officer, referral_date, status,
           rehab_exit_date, as_at_date
    from snapshot
    where rehab_exit_date is not null and outcome is null
),

final as (
    select work, nominal_id, officer, referral_date, status, waiting_since,
           (as_at_date - waiting_since) as days_waiting, as_at_date
    from items
)

select * from final
order by work, days_waiting desc, nominal_id
