-- grain: one row per UK financial-year quarter (Q1 = April-June) per referral source:
--   referrals.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with final as (
    select
        fy_quarter_label(referral_date) as quarter,
        min(date_trunc('quarter', referral_date))::date as quarter_start,
        referral_source,
        count(*) as referrals
    from referred_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
    group by all
)

select * from final
order by quarter_start, referral_source
