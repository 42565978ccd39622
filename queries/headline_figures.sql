-- grain: one row per journey step: referrals reaching it in the period, each step counted by
--   its own event date (referred, first contacted, assessed, entered rehab, completed 12
--   weeks), and the active caseload at the snapshot date.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with counted as (
    select step_order, step,
           count(*) filter (where in_period(event_date, $from_date, $to_date)) as referrals
    from journey_events($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    group by all
),

final as (
    -- every step, with none when no referral is in scope
    select s.step_order, s.step, coalesce(c.referrals, 0) as referrals
    from journey_steps() s left join counted c using (step_order, step)
    union all
    -- shown between Assessed and Entered rehab
    select 3.5, 'Active caseload', count(*)
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where status = 'Active'
)

select step, referrals from final
order by step_order
