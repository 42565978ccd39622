-- one row per snapshot per officer: referrals held in that snapshot (all statuses).
-- params: $officer, $area, $scope_officers
-- access: referrals
with final as (
    select u.as_at_date, r.officer, count(*) as referrals
    from referrals r
    join uploads u on u.upload_id = r.snapshot_id
    where ($officer::varchar is null or r.officer = $officer::varchar)
      and ($scope_officers::varchar[] is null
           or list_contains($scope_officers::varchar[], r.officer))
      and ($area::varchar is null or r.offending_area = $area::varchar)
    group by all
)

select * from final
order by as_at_date, officer
