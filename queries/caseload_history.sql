-- grain: one row per snapshot per officer: the officer's open referrals in that snapshot
--   (status Referral/Waiting or Active: not yet closed), and all referrals held (every status).
-- params: $scope_officers, $officer, $area, $referral_source
-- access: referrals
with final as (
    select
        u.as_at_date,
        r.officer,
        count(*) filter (where r.status in ('Referral/Waiting', 'Active')) as open_referrals,
        count(*) as referrals
    -- every snapshot, not only the latest
    from scoped_referrals(null, $scope_officers, $officer, $area, $referral_source) r
    join uploads u on u.upload_id = r.snapshot_id
    group by all
)

select * from final
order by as_at_date, officer
