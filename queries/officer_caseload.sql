-- grain: one row per officer per status: referrals in the snapshot (the latest unless
--   $snapshot_id).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the referral date
-- access: referrals
with scoped as (
    select *
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where in_period(referral_date, $from_date, $to_date)
),

final as (
    select officer, status, count(*) as referrals
    from scoped
    group by officer, status
)

select * from final
order by officer, status
