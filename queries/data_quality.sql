-- grain: one row per referral per data-quality issue in the snapshot (the latest unless
--   $snapshot_id).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source
-- access: person
-- The rules are in queries/macros/data_quality.sql.
with final as (
    select nominal_id, officer, referral_date, issue, detail,
        -- The row's place in the whole tracker: to an officer, the gaps between their own
        -- rows would count the other officers' referrals. Programme-wide viewers only.
        case when $scope_officers is null then source_row end as source_row
    from data_quality_issues($snapshot_id, $scope_officers, $officer, $area,
                              $referral_source)
)

select * from final
order by issue, referral_date, nominal_id
