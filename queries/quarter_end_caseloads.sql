-- grain: one row per snapshot asked for, per officer per status in it, plus each officer's
--   total (is_all_statuses), each status's total (is_all_officers) and the snapshot's total
--   (both): quarter_caseload for several snapshots in one run.
-- params: $snapshot_ids, $scope_officers
-- access: referrals
-- Stock, not flow: every referral each snapshot holds, whatever its dates. A circulated pack
-- reads the stock at every quarter end since the first, one snapshot each: run once a quarter,
-- quarter_caseload was a third of a first pack's queries.
with asked as (
    select distinct unnest($snapshot_ids::integer[]) as snapshot_id
),

scoped as (
    select snapshot_id, officer, status
    from scoped_referrals(null, $scope_officers, null, null, null)
    where snapshot_id in (select snapshot_id from asked)
),

final as (
    select
        snapshot_id,
        officer,
        status,
        grouping(officer) = 1 as is_all_officers,
        grouping(status) = 1 as is_all_statuses,
        count(*) as referrals
    from scoped
    group by grouping sets ((snapshot_id, officer, status), (snapshot_id, officer),
                            (snapshot_id, status), (snapshot_id))
)

select * from final
order by snapshot_id, is_all_officers, officer, is_all_statuses, status
