-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to the
--   first or last quarter with a date counted) per conversion: its base (n_base) and how many of
--   the base reached the next step (n_reached). Assessed to admitted: referrals assessed in the
--   quarter (by assessment date), of them those admitted to rehab by the snapshot date. Admitted to
--   completed: rehab stays that ended in the quarter (by exit date), of them those completing 12
--   weeks.
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with scoped as (
    select assessment_date, rehab_admission_date, rehab_exit_date, rehab_exit_reason
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

quarters as (
    select *
    from period_quarters($from_date, $to_date,
                         (select min(least(assessment_date, rehab_exit_date)) from scoped),
                         (select max(greatest(assessment_date, rehab_exit_date)) from scoped))
),

assessed as (
    select q.quarter_start, count(s.assessment_date) as n_base,
           count(s.rehab_admission_date) as n_reached
    from quarters q
    left join scoped s on in_period(s.assessment_date, q.from_date, q.to_date)
    group by q.quarter_start
),

exited as (
    select q.quarter_start, count(s.rehab_exit_date) as n_base,
           count(*) filter (where s.rehab_exit_reason = 'Completed') as n_reached
    from quarters q
    left join scoped s on in_period(s.rehab_exit_date, q.from_date, q.to_date)
    group by q.quarter_start
),

rates as (
    select quarter_start, 1 as rate_order, 'Assessed to admitted' as rate, n_base, n_reached
    from assessed
    union all
    select quarter_start, 2, 'Admitted to completed', n_base, n_reached
    from exited
),

final as (
    select quarter_start, rate, n_base, n_reached
    from rates
    order by quarter_start, rate_order
)

select * from final
