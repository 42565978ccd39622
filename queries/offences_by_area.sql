-- grain: one row per offence area per offence type: recorded offences (Connect) and value
--   stolen, by offence date, for people in the latest tracker snapshot who match the filters.
-- params: $snapshot_id, $scope_officers, $officer, $referral_source, $from_date, $to_date, $area
-- access: referrals
with people as (
    select distinct nominal_id
    -- the area filter applies to where each offence happened, below
    from scoped_referrals($snapshot_id, $scope_officers, $officer, null, $referral_source)
),

final as (
    select
        coalesce(c.offence_area, 'Not recorded') as offence_area,
        c.offence_type,
        count(*) as offences,
        coalesce(sum(c.value_stolen_gbp), 0)::double as value_stolen_gbp
    from crimes c
    join people p using (nominal_id)
    where ($from_date::date is null or c.offence_date >= $from_date::date)
      and ($to_date::date is null or c.offence_date <= $to_date::date)
      and ($area::varchar is null or c.offence_area = $area::varchar)
    group by all
)

select * from final
order by offences desc, offence_area, offence_type
