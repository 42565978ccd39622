-- grain: one row per conversion: its base (n_base) and how many of the base reached the next
--   step (n_reached). Assessed to admitted: referrals assessed in the period (by assessment
--   date), of them those admitted to rehab by the snapshot date. Admitted to completed: rehab
--   stays that ended in the period (by exit date), of them those completing 12 weeks.
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with scoped as (
    select assessment_date, rehab_admission_date, rehab_exit_date, rehab_exit_reason
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

assessed as (
    select rehab_admission_date
    from scoped
    where in_period(assessment_date, $from_date, $to_date)
),

exited as (
    select rehab_exit_reason
    from scoped
    where in_period(rehab_exit_date, $from_date, $to_date)
),

rates as (
    select 1 as rate_order, 'Assessed to admitted' as rate,
           count(*) as n_base, count(rehab_admission_date) as n_reached
    from assessed
    union all
    select 2, 'Admitted to completed',
           count(*), count(*) filter (where rehab_exit_reason = 'Completed')
    from exited
),

final as (
    select rate, n_base, n_reached
    from rates
    order by rate_order
)

select * from final
