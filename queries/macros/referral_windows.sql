-- referral_windows(snapshot, scope_officers, officer, area, referral_source, from_date, to_date,
-- before_days, after_referral_days, after_exit_days): the offending windows of each scoped
-- referral received in the period (offending_windows and offending_windows_by_type count
-- offences in them): one row per referral per window, in its outcome group, with the window's
-- label, length, first and last dates (inclusive) and whether it is followed up yet.
-- Windows: before referral: referral - before_days .. referral - 1; after referral: referral ..
-- referral + after_referral_days - 1; during rehab: admission .. exit (or the tracker's as-at
-- date while still in rehab), observed up to the latest Connect upload's as-at date; after
-- rehab exit: exit + 1 .. exit + after_exit_days. A window is followed up once it ends on or
-- before the latest Connect upload's as-at date (during rehab: once it starts by then).
create or replace macro referral_windows(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date,
    p_before_days, p_after_referral_days, p_after_exit_days
) as table
    with lengths as (
        select
            p_before_days::integer as before_days,
            p_after_referral_days::integer as after_referral_days,
            p_after_exit_days::integer as after_exit_days,
            latest_connect_as_at() as connect_as_at,
            (select as_at_date from o2r.uploads where upload_id = p_snapshot_id) as tracker_as_at
    ),

    labels as (
        select
            *,
            case before_days when 91 then '3 months' when 182 then '6 months'
                when 365 then '12 months' when 730 then '24 months'
                else before_days::varchar || ' days' end || ' before referral' as before_label,
            case after_referral_days when 91 then '3 months' when 182 then '6 months'
                when 365 then '12 months' when 730 then '24 months'
                else after_referral_days::varchar || ' days' end || ' after referral'
                as after_referral_label,
            case after_exit_days when 91 then '3 months' when 182 then '6 months'
                when 365 then '12 months' when 730 then '24 months'
                else after_exit_days::varchar || ' days' end || ' after rehab exit'
                as after_exit_label
        from lengths
    ),

    journeys as (
        select
            nominal_id,
            referral_date,
            rehab_admission_date,
            rehab_exit_date,
            case
                when rehab_admission_date is not null and rehab_exit_reason = 'Completed'
                    then 'Completed 12 weeks'
                when rehab_admission_date is not null and rehab_exit_date is not null
                    then 'Left rehab early'
                when rehab_admission_date is not null then 'In rehab'
                when assessment_date is not null then 'Assessed, not admitted'
                else 'Referred, not assessed'
            end as outcome_group
        from referred_in_period(p_snapshot_id, p_scope_officers, p_officer, p_area,
                                p_referral_source, p_from_date, p_to_date)
    )

    select
        j.*, 1 as window_order, l.before_label as "window", l.before_days as window_days,
        j.referral_date - l.before_days as first_date,
        j.referral_date - 1 as last_date,
        coalesce(j.referral_date - 1 <= l.connect_as_at, false) as is_followed_up
    from journeys j cross join labels l
    union all
    select
        j.*, 2, l.after_referral_label, l.after_referral_days,
        j.referral_date,
        j.referral_date + l.after_referral_days - 1,
        coalesce(j.referral_date + l.after_referral_days - 1 <= l.connect_as_at, false)
    from journeys j cross join labels l
    union all
    select
        j.*, 3, 'During rehab', null,
        j.rehab_admission_date,
        least(coalesce(j.rehab_exit_date, l.tracker_as_at), l.connect_as_at),
        coalesce(j.rehab_admission_date <= l.connect_as_at, false)
    from journeys j cross join labels l
    where j.rehab_admission_date is not null
    union all
    select
        j.*, 4, l.after_exit_label, l.after_exit_days,
        j.rehab_exit_date + 1,
        j.rehab_exit_date + l.after_exit_days,
        coalesce(j.rehab_exit_date + l.after_exit_days <= l.connect_as_at, false)
    from journeys j cross join labels l
    where j.rehab_exit_date is not null;
