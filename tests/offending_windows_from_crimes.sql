-- grain: one row per outcome group per window: police-recorded offences (Connect) of the
--   group's referrals within the window, the person-years observed, the value stolen, and the
--   same referrals' offences in the window before referral (the baseline, for the after/before
--   ratio).
-- params: $before_days, $after_referral_days, $after_exit_days, $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date, $offence_type
-- $from_date and $to_date bound the referral date; $before_days (default 365),
-- $after_referral_days and $after_exit_days (default 182) are the window lengths;
-- $offence_type counts only offences of that type (default every type).
-- Windows (dates inclusive): before referral: referral - before_days .. referral - 1;
-- after referral: referral .. referral + after_referral_days - 1; during rehab: admission ..
-- exit (or the tracker's as-at date while still in rehab); after rehab exit: exit + 1 .. exit +
-- after_exit_days. A window counts only once it ends on or before the latest Connect upload's
-- as-at date (during rehab: observed up to that date); the others are not yet followed up and
-- are counted in referrals_not_followed_up, never as zero offences.
-- access: referrals
with settings as (
    select
        coalesce($before_days::integer, 365) as before_days,
        coalesce($after_referral_days::integer, 182) as after_referral_days,
        coalesce($after_exit_days::integer, 182) as after_exit_days,
        latest_connect_as_at() as connect_as_at,
        (select as_at_date from uploads where upload_id = $snapshot_id) as tracker_as_at
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
            else after_exit_days::varchar || ' days' end || ' after rehab exit' as after_exit_label
    from settings
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
    from referred_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
),

windows as (
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
    where j.rehab_exit_date is not null
),

per_window as (
    select
        w.outcome_group, w.window_order, w."window", w.window_days, w.nominal_id,
        w.referral_date, w.is_followed_up,
        date_diff('day', w.first_date, w.last_date) + 1 as observed_days,
        count(c.crime_reference) as offences,
        coalesce(sum(c.value_stolen_gbp), 0) as value_stolen_gbp
    from windows w
    left join crimes c
        on c.nominal_id = w.nominal_id
       and c.offence_date between w.first_date and w.last_date
       and ($offence_type::varchar is null or c.offence_type = $offence_type::varchar)
    group by all
),

with_baseline as (
    select
        w.*,
        b.offences as baseline_offences,
        b.observed_days as baseline_days,
        b.value_stolen_gbp as baseline_value_stolen_gbp
    from per_window w
    left join per_window b
        on b.window_order = 1
       and w.window_order > 1
       and b.nominal_id = w.nominal_id
       and b.referral_date = w.referral_date
       and b.is_followed_up
),

final as (
    select
        outcome_group,
        "window",
        any_value(window_days) as window_days,
        count(*) filter (where is_followed_up) as referrals,
        count(distinct nominal_id) filter (where is_followed_up) as people,
        coalesce(sum(observed_days) filter (where is_followed_up), 0) / 365.25 as person_years,
        coalesce(sum(offences) filter (where is_followed_up), 0)::integer as offences,
        count(*) filter (where is_followed_up and offences = 0) as referrals_without_offence,
        coalesce(sum(value_stolen_gbp) filter (where is_followed_up), 0)::double
            as value_stolen_gbp,
        case when any_value(window_order) > 1 then
            coalesce(sum(baseline_offences) filter (where is_followed_up), 0)::integer
        end as baseline_offences,
        case when any_value(window_order) > 1 then
            coalesce(sum(baseline_days) filter (where is_followed_up), 0) / 365.25
        end as baseline_person_years,
        case when any_value(window_order) > 1 then
            coalesce(sum(baseline_value_stolen_gbp) filter (where is_followed_up), 0)::double
        end as baseline_value_stolen_gbp,
        count(*) filter (where not is_followed_up) as referrals_not_followed_up,
        any_value(window_order) as window_order,
        case outcome_group when 'Completed 12 weeks' then 1 when 'Left rehab early' then 2
            when 'In rehab' then 3 when 'Assessed, not admitted' then 4 else 5 end
            as group_order,
        outcome_group in ('Completed 12 weeks', 'Left rehab early', 'In rehab') as is_admitted
    from with_baseline
    group by outcome_group, "window"
)

select * from final
order by group_order, window_order
