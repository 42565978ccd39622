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
--
-- The windows themselves are the referral_windows macro's (shared with
-- offending_windows_by_type). The offences in each window come from window_facts (counted when data lands, for the latest
-- snapshot in force at window lengths of 91, 182, 365 or 730 days) whenever it fits; any
-- other snapshot or length is counted from the crimes themselves.
with settings as (
    select
        coalesce($before_days::integer, 365) as before_days,
        coalesce($after_referral_days::integer, 182) as after_referral_days,
        coalesce($after_exit_days::integer, 182) as after_exit_days
),

facts_fit as (
    select coalesce(
        $snapshot_id::integer = (
            select upload_id from uploads
            where kind = 'tracker'
              and upload_id not in (select snapshot_id from snapshot_withdrawals)
            order by as_at_date desc, upload_id desc
            limit 1)
        and before_days in (91, 182, 365, 730)
        and after_referral_days in (91, 182, 365, 730)
        and after_exit_days in (91, 182, 365, 730), false) as fits
    from settings
),

windows as (
    select *
    from referral_windows($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                          $from_date, $to_date, (select before_days from settings),
                          (select after_referral_days from settings),
                          (select after_exit_days from settings))
),

from_facts as (
    select
        w.nominal_id, w.referral_date, w.window_order,
        sum(case w.window_order
            when 1 then case w.window_days when 91 then f.before_91 when 182 then f.before_182
                when 365 then f.before_365 when 730 then f.before_730 end
            when 2 then case w.window_days when 91 then f.after_referral_91
                when 182 then f.after_referral_182 when 365 then f.after_referral_365
                when 730 then f.after_referral_730 end
            when 3 then f.during_rehab
            when 4 then case w.window_days when 91 then f.after_exit_91
                when 182 then f.after_exit_182 when 365 then f.after_exit_365
                when 730 then f.after_exit_730 end
        end)::bigint as offences,
        sum(case w.window_order
            when 1 then case w.window_days when 91 then f.before_91_gbp
                when 182 then f.before_182_gbp when 365 then f.before_365_gbp
                when 730 then f.before_730_gbp end
            when 2 then case w.window_days when 91 then f.after_referral_91_gbp
                when 182 then f.after_referral_182_gbp when 365 then f.after_referral_365_gbp
                when 730 then f.after_referral_730_gbp end
            when 3 then f.during_rehab_gbp
            when 4 then case w.window_days when 91 then f.after_exit_91_gbp
                when 182 then f.after_exit_182_gbp when 365 then f.after_exit_365_gbp
                when 730 then f.after_exit_730_gbp end
        end) as value_stolen_gbp
    from windows w
    join window_facts f
        on f.snapshot_id = $snapshot_id::integer
       and f.nominal_id = w.nominal_id
       and f.referral_date = w.referral_date
       and ($offence_type::varchar is null or f.offence_type = $offence_type::varchar)
    where (select fits from facts_fit)
    group by all
),

from_crimes as (
    select
        w.nominal_id, w.referral_date, w.window_order,
        count(*) as offences,
        sum(c.value_stolen_gbp) as value_stolen_gbp
    from windows w
    join crimes c
        on c.nominal_id = w.nominal_id
       and c.offence_date between w.first_date and w.last_date
       and ($offence_type::varchar is null or c.offence_type = $offence_type::varchar)
    where not (select fits from facts_fit)
    group by all
),

per_window as (
    select
        w.outcome_group, w.window_order, w."window", w.window_days, w.nominal_id,
        w.referral_date, w.is_followed_up,
        date_diff('day', w.first_date, w.last_date) + 1 as observed_days,
        coalesce(o.offences, 0) as offences,
        coalesce(o.value_stolen_gbp, 0) as value_stolen_gbp
    from windows w
    left join (select * from from_facts union all select * from from_crimes) o
        on o.nominal_id = w.nominal_id
       and o.referral_date = w.referral_date
       and o.window_order = w.window_order
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
