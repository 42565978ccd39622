-- grain: one row per referral source and detail: referrals in the latest snapshot.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $assessed_only, $from_date, $to_date
-- access: referrals
-- With $assessed_only true, only referrals that reached a police assessment count, and the
-- period applies to the assessment date (the evaluation's "first 60" basis).
with final as (
    select
        referral_source,
        coalesce(referral_source_detail, 'Not recorded') as referral_source_detail,
        count(*) as referrals
    from referrals_on_basis($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $assessed_only, $from_date, $to_date)
    group by all
)

select * from final
order by sum(referrals) over (partition by referral_source) desc, referral_source,
         referrals desc, referral_source_detail
