-- grain: one row per offence type per outcome group per window: offending_windows for each
--   offence type in $offence_types at once (each type's rows are exactly what offending_windows
--   gives with that $offence_type), for the cost of offences avoided by type.
-- params: $before_days, $after_referral_days, $after_exit_days, $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date, $offence_types
-- $from_date and $to_date bound the referral date; $before_days (default 365),
-- $after_referral_days and $after_exit_days (default 182) are the window lengths;
-- $offence_types lists the offence types to count (a type with no offences still gets its
-- rows); by default every type the latest snapshot's people have offences of (crime_facts).
-- The windows, groups and follow-up rules are offending_windows' (the referral_windows macro,
-- shared); only the offences, the value stolen and the baseline differ by type, so they are
-- counted from the windows that have any offence of the type, and the rest once for every type.
-- Windows (dates inclusive): before referral: referral - before_days .. referral - 1;
-- after referral: referral .. referral + after_referral_days - 1; during rehab: admission ..
-- exit (or the tracker's as-at date while still in rehab); after rehab exit: exit + 1 .. exit +
-- after_exit_days. A window counts only once it ends on or before the latest Connect upload's
-- as-at date (during rehab: observed up to that date); the others are not yet followed up and
-- are counted in referrals_not_followed_up, never as zero offences.
-- access: referrals
--
-- As in offending_windows, the offences in each window come from window_facts (counted when data lands, for the latest
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

types as (
    select distinct unnest(coalesce($offence_types::varchar[],
                                    (select list(distinct offence_type) from crime_facts)))
        as offence_type
),

from_facts as (
    select
        w.nominal_id, w.referral_date, w.window_order, f.offence_type,
        case w.window_order
            when 1 then case w.window_days when 91 then f.before_91 when 182 then f.before_182
                when 365 then f.before_365 when 730 then f.before_730 end
            when 2 then case w.window_days when 91 then f.after_referral_91
                when 182 then f.after_referral_182 when 365 then f.after_referral_365
                when 730 then f.after_referral_730 end
            when 3 then f.during_rehab
            when 4 then case w.window_days when 91 then f.after_exit_91
                when 182 then f.after_exit_182 when 365 then f.after_exit_365
                when 730 then f.after_exit_730 end
        end::bigint as offences,
        case w.window_order
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
        end::decimal(38, 2) as value_stolen_gbp
    from windows w
    join window_facts f
        on f.snapshot_id = $snapshot_id::integer
       and f.nominal_id = w.nominal_id
       and f.referral_date = w.referral_date
       and f.offence_type in (select offence_type from types)
    where (select fits from facts_fit)
),

from_crimes as (
    select
        w.nominal_id, w.referral_date, w.window_order, c.offence_type,
        count(*) as offences,
        sum(c.value_stolen_gbp) as value_stolen_gbp
    from windows w
    join crimes c
        on c.nominal_id = w.nominal_id
       and c.offence_date between w.first_date and w.last_date
       and c.offence_type in (select offence_type from types)
    where not (select fits from facts_fit)
    group by all
),

-- each window's offences of each type, only where the window has a row for the type
typed as (
    select * from from_facts where offences > 0
    union all
    select * from from_crimes
),

per_window as (
    select
        w.outcome_group, w.window_order, w."window", w.window_days, w.nominal_id,
        w.referral_date, w.is_followed_up,
        date_diff('day', w.first_date, w.last_date) + 1 as observed_days
    from windows w
),

with_baseline as (
    select
        w.*,
        b.observed_days as baseline_days,
        b.window_order as baseline_order
    from per_window w
    left join per_window b
        on b.window_order = 1
       and w.window_order > 1
       and b.nominal_id = w.nominal_id
       and b.referral_date = w.referral_date
       and b.is_followed_up
),

-- what every type shares: who was followed up, for how long, and the baseline's length
shared as (
    select
        outcome_group,
        "window",
        any_value(window_days) as window_days,
        count(*) filter (where is_followed_up) as referrals,
        count(distinct nominal_id) filter (where is_followed_up) as people,
        coalesce(sum(observed_days) filter (where is_followed_up), 0) / 365.25 as person_years,
        case when any_value(window_order) > 1 then
            coalesce(sum(baseline_days) filter (where is_followed_up), 0) / 365.25
        end as baseline_person_years,
        count(*) filter (where not is_followed_up) as referrals_not_followed_up,
        any_value(window_order) as window_order
    from with_baseline
    group by outcome_group, "window"
),

-- the followed-up windows' own offences of each type
type_offences as (
    select
        w.outcome_group, w."window", t.offence_type,
        sum(t.offences) as offences,
        count(*) filter (where t.offences > 0) as referrals_with_offence,
        sum(t.value_stolen_gbp) as value_stolen_gbp
    from per_window w
    join typed t
        on t.nominal_id = w.nominal_id
       and t.referral_date = w.referral_date
       and t.window_order = w.window_order
    where w.is_followed_up
    group by all
),

-- the offences of each type in the baseline of each followed-up window after referral
type_baseline as (
    select
        w.outcome_group, w."window", t.offence_type,
        sum(t.offences) as offences,
        sum(t.value_stolen_gbp) as value_stolen_gbp
    from with_baseline w
    join typed t
        on t.nominal_id = w.nominal_id
       and t.referral_date = w.referral_date
       and t.window_order = w.baseline_order
    where w.is_followed_up
    group by all
),

final as (
    select
        k.offence_type,
        s.outcome_group,
        s."window",
        s.window_days,
        s.referrals,
        s.people,
        s.person_years,
        coalesce(o.offences, 0)::integer as offences,
        s.referrals - coalesce(o.referrals_with_offence, 0) as referrals_without_offence,
        coalesce(o.value_stolen_gbp, 0)::double as value_stolen_gbp,
        case when s.window_order > 1 then coalesce(b.offences, 0)::integer end
            as baseline_offences,
        s.baseline_person_years,
        case when s.window_order > 1 then coalesce(b.value_stolen_gbp, 0)::double end
            as baseline_value_stolen_gbp,
        s.referrals_not_followed_up,
        s.window_order,
        case s.outcome_group when 'Completed 12 weeks' then 1 when 'Left rehab early' then 2
            when 'In rehab' then 3 when 'Assessed, not admitted' then 4 else 5 end
            as group_order,
        s.outcome_group in ('Completed 12 weeks', 'Left rehab early', 'In rehab') as is_admitted
    from shared s
    cross join types k
    left join type_offences o
        on o.outcome_group = s.outcome_group and o."window" = s."window"
       and o.offence_type = k.offence_type
    left join type_baseline b
        on b.outcome_group = s.outcome_group and b."window" = s."window"
       and b.offence_type = k.offence_type
)

select * from final
order by offence_type, group_order, window_order
