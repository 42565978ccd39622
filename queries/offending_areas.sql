-- grain: one row per primary offending area: referrals in the latest snapshot.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $assessed_only, $from_date, $to_date
-- access: referrals
-- With $assessed_only true, only referrals that reached a police assessment count, and the
-- period applies to the assessment date.
with final as (
    select coalesce(offending_area, 'Not recorded') as offending_area, count(*) as referrals
    from referrals_on_basis($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $assessed_only, $from_date, $to_date)
    group by all
)

select * from final
order by referrals desc, offending_area
