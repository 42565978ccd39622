-- rehab_exits(snapshot, scope_officers, officer, area, referral_source, from_date, to_date): one
-- row per scoped referral that left rehab (admitted, with an exit date) in the period by exit
-- date (its nominal ID, referral date and exit date), in its outcome group: 'Completed 12
-- weeks' (exit reason Completed) or 'Left rehab early' (any other reason, or none recorded).
create or replace macro rehab_exits(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date
) as table
    select
        nominal_id,
        referral_date,
        rehab_exit_date,
        case when rehab_exit_reason = 'Completed' then 'Completed 12 weeks'
             else 'Left rehab early' end as outcome_group
    from scoped_referrals(p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source)
    where rehab_admission_date is not null
      and in_period(rehab_exit_date, p_from_date, p_to_date);

-- latest_connect_as_at(): the as-at date of the latest Connect upload, up to which offences
-- are known (null before any).
create or replace macro latest_connect_as_at() as
    (select max(as_at_date) from o2r.uploads where kind = 'connect');

-- exit_offences(snapshot, scope_officers, officer, area, referral_source, from_date, to_date,
-- within_days): the rehab_exits rows, each with the last day of its window after exit
-- (exit + within_days, or with within_days null the latest Connect upload's as-at date) and
-- the police-recorded offences (Connect) from the day after the exit to then: how many, and
-- the date of the first (null: none).
create or replace macro exit_offences(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date,
    p_within_days
) as table
    with exits as (
        select *,
               coalesce(rehab_exit_date + p_within_days::integer, latest_connect_as_at())
                   as window_end
        from rehab_exits(p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source,
                         p_from_date, p_to_date)
    )

    select
        e.nominal_id,
        e.rehab_exit_date,
        e.outcome_group,
        e.window_end,
        count(c.crime_reference) as offences,
        min(c.offence_date) as first_offence_date
    from exits e
    left join o2r.crimes c
        on c.nominal_id = e.nominal_id
       and c.offence_date > e.rehab_exit_date
       and c.offence_date <= e.window_end
    group by e.nominal_id, e.rehab_exit_date, e.outcome_group, e.window_end;

-- rehab_admissions(snapshot, scope_officers, officer, area, referral_source, from_date,
-- to_date): one row per scoped referral admitted to rehab in the period (by admission date):
-- its admission date and facility, whether it took the pre-admission course first, its days
-- in rehab (to its exit or, still in, to the snapshot's as-at date), whether it has left and
-- whether it completed 12 weeks (exit reason Completed). The Outcomes page's retention curve
-- (rehab_stays.sql) and the pack's Retention table (quarter_retention.sql) both read it.
create or replace macro rehab_admissions(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date
) as table
    select
        r.rehab_admission_date,
        r.rehab_facility,
        case when r.pre_admission_start_date is not null
                  and r.pre_admission_start_date <= r.rehab_admission_date
             then 'Took the pre-admission course' else 'No pre-admission course' end
            as pre_admission_course,
        date_diff('day', r.rehab_admission_date,
                  coalesce(r.rehab_exit_date, u.as_at_date)) as days,
        r.rehab_exit_date is not null as has_left,
        coalesce(r.rehab_exit_reason = 'Completed', false) as is_completed
    from scoped_referrals(p_snapshot_id, p_scope_officers, p_officer, p_area,
                          p_referral_source) r
    inner join o2r.uploads u on u.upload_id = r.snapshot_id
    where r.rehab_admission_date is not null
      and in_period(r.rehab_admission_date, p_from_date, p_to_date);
