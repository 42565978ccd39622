-- grain: one row per journey step per UK financial-year quarter (by the step's own event date):
--   referrals reaching that step in the quarter, for the at-a-glance trends and comparisons.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source
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
    select 4, 'Entered rehab', rehab_admission_date from scoped
    union all
    select 5, 'Completed 12 weeks', rehab_exit_date from scoped
    where rehab_exit_reason = 'Completed'
),

final as (
    select step_order, step,
           -- financial quarters start in April, July, October and January: calendar ones
           date_trunc('quarter', event_date)::date as quarter_start,
           count(*) as referrals
    from events
    where event_date is not null
    group by all
)

select * from final
order by quarter_start, step_order
