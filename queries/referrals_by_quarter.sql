-- grain: one row per UK financial-year quarter (Q1 = April-June) per referral source:
--   referrals.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- access: referrals
with scoped as (
    select *,
        case when month(referral_date) >= 4 then year(referral_date)
             else year(referral_date) - 1 end as fy_start
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where ($from_date::date is null or referral_date >= $from_date::date)
      and ($to_date::date is null or referral_date <= $to_date::date)
),

final as (
    select
        fy_start::varchar || '/' || lpad(((fy_start + 1) % 100)::varchar, 2, '0')
            || ' Q' || ((month(referral_date) + 8) % 12 // 3 + 1)::varchar as quarter,
        min(date_trunc('quarter', referral_date))::date as quarter_start,
        referral_source,
        count(*) as referrals
    from scoped
    group by all
)

select * from final
order by quarter_start, referral_source
