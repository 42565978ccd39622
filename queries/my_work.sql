-- grain: one row per referral per piece of outstanding work in the snapshot (the latest unless
--   $snapshot_id) that has waited long enough to be listed, with the days it has waited by
--   the snapshot's as-at date; list by list in dashboard/analysis/work.py's order (list_order),
--   each longest wait first. A list is listed once its days pass its threshold (the settings
--   work.thresholds() binds: $assessed_stall_days, $rehab_days); a list with no threshold, or
--   a threshold left null, lists every referral from day 0.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $assessed_stall_days, $rehab_days
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
    select 1 as list_order, 'awaiting_contact' as work, nominal_id, officer, referral_date,
           status, referral_date as waiting_since, as_at_date, null::integer as listed_after
    from snapshot
    where is_open and first_contact_date is null

    union all
    select 2, 'assessed_no_next_step', nominal_id, officer, referral_date, status,
           assessment_date, as_at_date, $assessed_stall_days::integer
    from snapshot
    where is_open and assessment_date is not null
      and pre_admission_start_date is null and rehab_admission_date is null

    union all
    select 3, 'rehab_no_exit', nominal_id, officer, referral_date, status,
           rehab_admission_date, as_at_date, $rehab_days::integer
    from snapshot
    where rehab_admission_date is not null and rehab_exit_date is null
      and rehab_exit_reason is null

    union all
    select 4, 'left_rehab_no_outcome', nominal_id, officer, referral_date, status,
           rehab_exit_date, as_at_date, null::integer
    from snapshot
    where rehab_exit_date is not null and outcome is null
),

final as (
    select list_order, work, nominal_id, officer, referral_date, status, waiting_since,
           (as_at_date - waiting_since) as days_waiting, as_at_date
    from items
    -- a wait that starts after the as-at date is a data error, not work outstanding
    where (as_at_date - waiting_since) > coalesce(listed_after, -1)
)

select * from final
order by list_order, days_waiting desc, nominal_id
