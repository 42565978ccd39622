-- grain: one row per calendar quarter of first contact per number of days waited from referral
--   to first contact: how many referrals waited that long (counts only, for medians and
--   shares).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source
-- access: referrals
with scoped as (
    select *
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where first_contact_date is not null
      and first_contact_date >= referral_date
),

final as (
    select date_trunc('quarter', first_contact_date)::date as quarter_start,
           (first_contact_date - referral_date) as days_waited,
           count(*) as referrals
    from scoped
    group by all
)

select * from final
order by quarter_start, days_waited
