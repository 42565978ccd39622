-- grain: one row per journey step for a cohort: of the referrals received in the period
--   ($cohort 'referrals', by referral date) or the police assessments made in it ($cohort
--   'assessments', by assessment date), how many have got at least as far as each step by the
--   snapshot's as-at date (reached), and of those how many stopped there with their case still
--   open (in_progress: they may yet go further). A step counts as reached when its date, or any
--   later step's date, is recorded (the pre-admission course and the rehab's own assessment are
--   not steps here: people join the course before or without a police assessment), so each step
--   is part of the one before and no rate exceeds 100%.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $cohort, $from_date, $to_date
-- access: referrals
with scoped as (
    select *
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
),

cohort as (
    select
        coalesce(rehab_exit_reason = 'Completed', false) as reached_completed,
        rehab_admission_date is not null as reached_rehab,
        rehab_admission_date is not null or assessment_date is not null as reached_assessed,
        rehab_admission_date is not null or assessment_date is not null
            or first_contact_date is not null as reached_contacted,
        -- still open: nothing has closed the case (an outcome other than ongoing engagement,
        -- a withdrawn or inactive status, or a rehab exit)
        rehab_exit_date is null
            and (outcome is null or outcome = 'Ongoing engagement')
            and status in ('Active', 'Referral/Waiting') as is_open,
        rehab_admission_date is not null and rehab_exit_date is null as is_in_rehab
    from scoped
    where in_period(case when $cohort = 'assessments' then assessment_date
                         else referral_date end,
                    $from_date, $to_date)
),

steps as (
    select 1 as step_order, 'Referred' as step, count(*) as reached,
           count(*) filter (where not reached_contacted and is_open) as in_progress
    from cohort
    union all
    select 2, 'Contacted', count(*) filter (where reached_contacted),
           count(*) filter (where reached_contacted and not reached_assessed and is_open)
    from cohort
    union all
    select 3, 'Assessed', count(*) filter (where reached_assessed),
           count(*) filter (where reached_assessed and not reached_rehab and is_open)
    from cohort
    union all
    select 4, 'Entered rehab', count(*) filter (where reached_rehab),
           count(*) filter (where is_in_rehab)
    from cohort
    union all
    select 5, 'Completed 12 weeks', count(*) filter (where reached_completed), 0
    from cohort
),

in_cohort as (
    select * from steps
    where step_order >= case when $cohort = 'assessments' then 3 else 1 end
),

final as (
    select
        step_order,
        step,
        reached,
        in_progress,
        first_value(reached) over (order by step_order) as cohort_size
    from in_cohort
)

select step, reached, in_progress, cohort_size from final
order by step_order
