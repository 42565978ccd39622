-- grain: one row per UK financial year (April-March) from the first referral in scope to the
--   as-at date: rehab entrants (by admission date) and 12-week completions (by exit date,
--   reason Completed).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source
-- access: referrals
-- A year is complete once the snapshot's as-at date has reached its 31 March; the covered dates
-- say how much of a year the programme (or the scope) was actually running.
with scoped as (
    select *
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
),

snapshot as (
    select as_at_date
    from uploads
    where upload_id = $snapshot_id
),

bounds as (
    select
        min(scoped.referral_date) as first_referral_date,
        any_value(snapshot.as_at_date) as as_at_date,
        fy_start_year(min(scoped.referral_date)) as first_fy,
        fy_start_year(any_value(snapshot.as_at_date)) as last_fy
    from scoped
    cross join snapshot
),

financial_years as (
    select
        fy.fy as fy_start_year,
        make_date(fy.fy, 4, 1) as fy_start_date,
        make_date(fy.fy + 1, 3, 31) as fy_end_date,
        bounds.first_referral_date,
        bounds.as_at_date
    from bounds
    cross join unnest(generate_series(bounds.first_fy, bounds.last_fy)) as fy(fy)
),

events as (
    select
        fy_start_year(rehab_admission_date) as fy_start_year,
        1 as is_entrant,
        0 as is_completion
    from scoped
    where rehab_admission_date is not null
    union all
    select
        fy_start_year(rehab_exit_date),
        0,
        1
    from scoped
    where rehab_exit_date is not null and rehab_exit_reason = 'Completed'
),

final as (
    select
        fy_label(fy.fy_start_year) as financial_year,
        fy.fy_start_date,
        fy.fy_end_date,
        greatest(fy.fy_start_date, fy.first_referral_date) as covered_from_date,
        least(fy.fy_end_date, fy.as_at_date) as covered_to_date,
        fy.fy_end_date <= fy.as_at_date as is_complete_year,
        coalesce(sum(events.is_entrant), 0)::integer as n_rehab_entrants,
        coalesce(sum(events.is_completion), 0)::integer as n_completions
    from financial_years as fy
    left join events on events.fy_start_year = fy.fy_start_year
    group by all
)

select * from final
order by fy_start_date
