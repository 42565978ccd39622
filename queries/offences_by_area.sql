-- grain: one row per offence area per offence type: recorded offences (Connect) and value
--   stolen, by offence date, for people in the latest tracker snapshot who match the filters.
-- params: $snapshot_id, $scope_officers, $officer, $referral_source, $from_date, $to_date, $area
-- access: referrals
--
-- Whole months come from crime_facts (pre-aggregated when data lands: the latest snapshot's
-- people, no officer or source filter) whenever it fits the filters; otherwise, and for the
-- days of a month the period only partly covers, from the crimes themselves, which are
-- stored in offence-date order so the period skips the rest.
with facts_fit as (
    select count(*) > 0 as fits
    from crime_facts
    where snapshot_id = $snapshot_id::integer
      and $scope_officers::varchar[] is null
      and $officer::varchar is null
      and $referral_source::varchar is null
      and snapshot_id not in (select snapshot_id from snapshot_withdrawals)
),

people as (
    select distinct nominal_id
    -- the area filter applies to where each offence happened, below
    from scoped_referrals($snapshot_id, $scope_officers, $officer, null, $referral_source)
),

whole_months as (
    select f.offence_area, f.offence_type, f.offences, f.value_stolen_gbp
    from crime_facts f
    where f.snapshot_id = $snapshot_id::integer
      and (select fits from facts_fit)
      and month_in_period(f.offence_month, $from_date, $to_date)
      and ($area::varchar is null or f.offence_area = $area::varchar)
),

-- one row when whole_months leaves anything to count from the crimes, none otherwise (an
-- empty side of the join below spares the scan of every crime)
crimes_needed as (
    select true as needed
    from facts_fit
    where not fits or $from_date::date is not null or $to_date::date is not null
),

from_crimes as (
    select c.offence_area, c.offence_type, 1 as offences, c.value_stolen_gbp
    from crimes c
    join people p using (nominal_id)
    join crimes_needed n on n.needed
    where in_period(c.offence_date, $from_date, $to_date)
      and ($area::varchar is null or c.offence_area = $area::varchar)
      -- the days whole_months did not count
      and not ((select fits from facts_fit)
               and month_in_period(c.offence_date, $from_date, $to_date))
),

final as (
    select
        coalesce(offence_area, 'Not recorded') as offence_area,
        offence_type,
        sum(offences)::bigint as offences,
        coalesce(sum(value_stolen_gbp), 0)::double as value_stolen_gbp
    from (select * from whole_months union all select * from from_crimes)
    group by all
)

select * from final
order by offences desc, offence_area, offence_type
