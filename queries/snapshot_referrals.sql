-- grain: one row per tracker snapshot in force: the referrals it holds (an officer's own only).
-- params: $scope_officers
-- access: referrals
-- A separate query from snapshots.sql, which every role reads: a referral count is not for the
-- scrutiny panel outside the protected pack.
with scoped as (
    select snapshot_id
    from scoped_referrals(null, $scope_officers, null, null, null)
),

final as (
    select snapshot_id, count(*) as referrals
    from scoped
    group by snapshot_id
)

select * from final
order by snapshot_id
