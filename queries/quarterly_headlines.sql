-- grain: one row per journey step per UK financial-year quarter (by the step's own event date):
--   referrals reaching that step in the quarter, for the at-a-glance trends and comparisons.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source
-- access: referrals
with final as (
    select step_order, step,
           -- financial quarters start in April, July, October and January: calendar ones
           date_trunc('quarter', event_date)::date as quarter_start,
           count(*) as referrals
    from journey_events($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where event_date is not null
    group by all
)

select * from final
order by quarter_start, step_order
