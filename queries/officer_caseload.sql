-- grain: one row per officer per status: referrals in the snapshot (the latest unless
--   $snapshot_id).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the referral date
-- access: referrals
with final as (
    select officer, status, count(*) as referrals
    from referred_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
    group by officer, status
)

select * from final
order by officer, status
