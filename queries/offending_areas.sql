-- grain: one row per primary offending area: referrals in the latest snapshot.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $assessed_only, $from_date, $to_date
-- access: referrals
-- With $assessed_only true, only referrals that reached a police assessment count, and the
-- period applies to the assessment date.
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
    select coalesce(offending_area, 'Not recorded') as offending_area, count(*) as referrals
    from scoped
    group by all
)

select * from final
order by referrals desc, offending_area
