-- offending_window_counts(snapshot, scope_officers, officer, area, referral_source, from_date,
-- to_date, before_days, after_referral_days, after_exit_days, offence_types, every_type,
-- lengths_in_facts): what offending_windows and offending_windows_by_type give, one row per key
-- per outcome group per window (ordered by neither). The keys are offence_types' types, each
-- counted alone, or, when every_type is true, a single null key: every type together.
-- Null lengths are the defaults (365, 182, 182 days).
-- lengths_in_facts says whether window_facts holds these lengths (the queries say which, so a
-- test can hold them to window_facts.WINDOW_DAYS): the offences in each window come from
-- window_facts when it does and the snapshot is the latest in force, else from the crimes.
-- Each window's offences are counted only where it has any (so the keys cost only their own
-- offences); who is followed up, for how long, and the baseline's length once for every key.
create or replace macro offending_window_counts(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date,
    p_before_days, p_after_referral_days, p_after_exit_days, p_offence_types, p_every_type,
    p_lengths_in_facts
) as table
    with settings as (
        select
            coalesce(p_before_days::integer, 365) as before_days,
            coalesce(p_after_referral_days::integer, 182) as after_referral_days,
            coalesce(p_after_exit_days::integer, 182) as after_exit_days,
            coalesce(p_lengths_in_facts::boolean and p_snapshot_id::integer = (
                select upload_id from o2r.uploads
                where kind = 'tracker'
                  and upload_id not in (select snapshot_id from o2r.snapshot_withdrawals)
                order by as_at_date desc, upload_id desc
                limit 1), false) as facts_fit
    ),

    windows as (
        select *
        from referral_windows(p_snapshot_id, p_scope_officers, p_officer, p_area,
                              p_referral_source, p_from_date, p_to_date,
                              (select before_days from settings),
                              (select after_referral_days from settings),
                              (select after_exit_days from settings))
    ),

    -- (every_type is its own argument, a constant in each query, not read from the list: a
    -- branch test on the list costs offending_windows_by_type ~30% when its default list is a
    -- subquery)
    types as (
        select p_offence_types::varchar[] as types
    ),

    keys as (
        select distinct unnest(
            case when p_every_type::boolean then [null::varchar] else types end) as offence_type
        from types
    ),

    -- one row per window per offence type in window_facts
    from_facts as (
        select
            w.nominal_id, w.referral_date, w.window_order,
            case when p_every_type::boolean then null else f.offence_type end
                as offence_type,
            case w.window_order
                when 1 then case w.window_days when 91 then f.before_91
                    when 182 then f.before_182 when 365 then f.before_365
                    when 730 then f.before_730 end
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
                    when 182 then f.after_referral_182_gbp
                    when 365 then f.after_referral_365_gbp
                    when 730 then f.after_referral_730_gbp end
                when 3 then f.during_rehab_gbp
                when 4 then case w.window_days when 91 then f.after_exit_91_gbp
                    when 182 then f.after_exit_182_gbp when 365 then f.after_exit_365_gbp
                    when 730 then f.after_exit_730_gbp end
            end as value_stolen_gbp
        from windows w
        join o2r.window_facts f
            on f.snapshot_id = p_snapshot_id::integer
           and f.nominal_id = w.nominal_id
           and f.referral_date = w.referral_date
        where (select facts_fit from settings)
          and (p_every_type::boolean
               or list_contains((select types from types), f.offence_type))
    ),

    from_crimes as (
        select
            w.nominal_id, w.referral_date, w.window_order,
            case when p_every_type::boolean then null else c.offence_type end
                as offence_type,
            count(*) as offences,
            sum(c.value_stolen_gbp) as value_stolen_gbp
        from windows w
        join o2r.crimes c
            on c.nominal_id = w.nominal_id
           and c.offence_date between w.first_date and w.last_date
        where not (select facts_fit from settings)
          and (p_every_type::boolean
               or list_contains((select types from types), c.offence_type))
        group by all
    ),

    -- each window's offences of each key, only where the window has any
    keyed as (
        select * from from_facts
        where not p_every_type::boolean and offences > 0
        union all
        select
            nominal_id, referral_date, window_order, null,
            sum(offences)::bigint, sum(value_stolen_gbp)
        from from_facts
        where p_every_type::boolean
        group by nominal_id, referral_date, window_order
        having sum(offences) > 0
        union all
        select * from from_crimes
    ),

    per_window as (
        select
            outcome_group, window_order, "window", window_days, nominal_id, referral_date,
            is_followed_up, date_diff('day', first_date, last_date) + 1 as observed_days
        from windows
    ),

    with_baseline as (
        select w.*, b.observed_days as baseline_days, b.window_order as baseline_order
        from per_window w
        left join per_window b
            on b.window_order = 1
           and w.window_order > 1
           and b.nominal_id = w.nominal_id
           and b.referral_date = w.referral_date
           and b.is_followed_up
    ),

    -- what every key shares: who was followed up, for how long, and the baseline's length
    shared as (
        select
            outcome_group,
            "window",
            any_value(window_days) as window_days,
            count(*) filter (where is_followed_up) as referrals,
            count(distinct nominal_id) filter (where is_followed_up) as people,
            coalesce(sum(observed_days) filter (where is_followed_up), 0) / 365.25
                as person_years,
            case when any_value(window_order) > 1 then
                coalesce(sum(baseline_days) filter (where is_followed_up), 0) / 365.25
            end as baseline_person_years,
            count(*) filter (where not is_followed_up) as referrals_not_followed_up,
            any_value(window_order) as window_order
        from with_baseline
        group by outcome_group, "window"
    ),

    -- the followed-up windows' own offences of each key, and those in their baselines
    key_offences as (
        select
            w.outcome_group, w."window", t.offence_type,
            sum(t.offences) filter (where t.window_order = w.window_order) as offences,
            count(*) filter (where t.window_order = w.window_order and t.offences > 0)
                as referrals_with_offence,
            sum(t.value_stolen_gbp) filter (where t.window_order = w.window_order)
                as value_stolen_gbp,
            sum(t.offences) filter (where t.window_order = w.baseline_order)
                as baseline_offences,
            sum(t.value_stolen_gbp) filter (where t.window_order = w.baseline_order)
                as baseline_value_stolen_gbp
        from with_baseline w
        join keyed t
            on t.nominal_id = w.nominal_id
           and t.referral_date = w.referral_date
           and (t.window_order = w.window_order or t.window_order = w.baseline_order)
        where w.is_followed_up
        group by all
    )

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
        case when s.window_order > 1 then coalesce(o.baseline_offences, 0)::integer end
            as baseline_offences,
        s.baseline_person_years,
        case when s.window_order > 1 then coalesce(o.baseline_value_stolen_gbp, 0)::double end
            as baseline_value_stolen_gbp,
        s.referrals_not_followed_up,
        s.window_order,
        case s.outcome_group when 'Completed 12 weeks' then 1 when 'Left rehab early' then 2
            when 'In rehab' then 3 when 'Assessed, not admitted' then 4 else 5 end
            as group_order,
        s.outcome_group in ('Completed 12 weeks', 'Left rehab early', 'In rehab') as is_admitted
    from shared s
    cross join keys k
    left join key_offences o
        on o.outcome_group = s.outcome_group and o."window" = s."window"
       and o.offence_type is not distinct from k.offence_type;
