-- grain: one row per filter field and value offered in the sidebar (officers, areas, referral
--   sources), plus the span of referral dates.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source
-- access: referrals
with scoped as (
    select * from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
),

final as (
    select distinct 'officer' as field, officer as value from scoped
    union all
    select distinct 'area', offending_area from scoped where offending_area is not null
    union all
    select distinct 'referral_source', referral_source from scoped
    union all
    select 'first_referral_date', strftime(min(referral_date), '%Y-%m-%d') from scoped
    union all
    select 'last_referral_date', strftime(max(referral_date), '%Y-%m-%d') from scoped
)

select * from final
where value is not null
order by field, value
