-- grain: one row per officer per status in the snapshot, plus each officer's total
--   (is_all_statuses), each status's total (is_all_officers) and the grand total (both).
-- params: $snapshot_id, $scope_officers
-- access: referrals
-- Stock, not flow: every referral the snapshot holds, whatever its dates.
with scoped as (
    select officer, status
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

final as (
    select
        officer,
        status,
        grouping(officer) = 1 as is_all_officers,
        grouping(status) = 1 as is_all_statuses,
        count(*) as referrals
    from scoped
    group by grouping sets ((officer, status), (officer), (status), ())
)

select * from final
order by is_all_officers, officer, is_all_statuses, status
