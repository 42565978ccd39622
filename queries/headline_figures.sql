-- grain: one row per journey step: referrals reaching it in the period, each step counted by
--   its own event date (referred, first contacted, assessed, entered rehab, completed 12
--   weeks), and the active caseload at the snapshot date.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with scoped as (
    select *
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
),

events as (
    select 1 as step_order, 'Referrals' as step, referral_date as event_date from scoped
    union all
    select 2, 'Contacted', first_contact_date from scoped
    union all
    select 3, 'Assessed', assessment_date from scoped
    union all
    select 5, 'Entered rehab', rehab_admission_date from scoped
    union all
    select 6, 'Completed 12 weeks', rehab_exit_date from scoped
    where rehab_exit_reason = 'Completed'
),

in_period as (
    select step_order, step, count(event_date) filter (
        where ($from_date::date is null or event_date >= $from_date::date)
          and ($to_date::date is null or event_date <= $to_date::date)
    ) as referrals
    from events
    group by all
),

steps as (
    select * from (values (1, 'Referrals'), (2, 'Contacted'), (3, 'Assessed'),
                          (5, 'Entered rehab'), (6, 'Completed 12 weeks')) as s(step_order, step)
),

final as (
    select s.step_order, s.step, coalesce(p.referrals, 0) as referrals
    from steps s left join in_period p using (step_order, step)
    union all
    select 4, 'Active caseload', count(*) from scoped where status = 'Active'
)

select step, referrals from final
order by step_order
