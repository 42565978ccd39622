-- grain: one row per primary offending area: referrals assessed in the period (by assessment
--   date) and how many of them entered rehab; is_city_centre marks the City Centre (null
--   where no area is recorded: such a referral is in neither City Centre nor the rest).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with final as (
    select
        coalesce(offending_area, 'Not recorded') as offending_area,
        offending_area = 'City Centre' as is_city_centre,
        count(*) as assessed,
        count(rehab_admission_date) as entered_rehab
    from assessed_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
    group by all
)

select * from final
order by assessed desc, offending_area
