-- grain: one row per rehab facility: referrals admitted to it, in the latest snapshot.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the referral date
-- access: referrals
with scoped as (
    select *
    from referred_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
    where rehab_admission_date is not null
),

final as (
    select rehab_facility, count(*) as referrals
    from scoped
    group by rehab_facility
)

select * from final
order by referrals desc, rehab_facility
