-- grain: one row per referral source and detail: referrals in the latest snapshot.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $assessed_only, $from_date, $to_date
-- access: referrals
-- With $assessed_only true, only referrals that reached a police assessment count, and the
-- period applies to the assessment date (the evaluation's "first 60" basis).
with scoped as (
    select *
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where (not coalesce($assessed_only::boolean, false) or assessment_date is not null)
      and ($from_date::date is null
           or (case when coalesce($assessed_only::boolean, false) then assessment_date
                    else referral_date end) >= $from_date::date)
      and ($to_date::date is null
           or (case when coalesce($assessed_only::boolean, false) then assessment_date
                    else referral_date end) <= $to_date::date)
),

final as (
    select
        referral_source,
        coalesce(referral_source_detail, 'Not recorded') as referral_source_detail,
        count(*) as referrals
    from scoped
    group by all
)

select * from final
order by sum(referrals) over (partition by referral_source) desc, referral_source,
         referrals desc, referral_source_detail
