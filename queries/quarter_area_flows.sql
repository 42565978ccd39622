-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to the
--   first or last quarter with a date counted) per primary offending area, plus each quarter's
--   total row (is_total): referrals received, police assessments and rehab admissions in the
--   quarter, each counted by its own event date.
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
-- Areas with none of the three in a quarter are left out of it; the total row is always there.
with scoped as (
    select
        coalesce(offending_area, 'Not recorded') as offending_area,
        referral_date, assessment_date, rehab_admission_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

counted as (
    select
        q.quarter_start,
        s.offending_area,
        grouping(s.offending_area) = 1 as is_total,
        count(*) filter (where in_period(s.referral_date, q.from_date, q.to_date))
            as referrals,
        count(*) filter (where in_period(s.assessment_date, q.from_date, q.to_date))
            as assessed,
        count(*) filter (where in_period(s.rehab_admission_date, q.from_date, q.to_date))
            as entered_rehab
    -- every referral against every quarter (a left join: with no referrals in scope each
    -- quarter still has its total row of zeros)
    from period_quarters(
        $from_date, $to_date,
        (select min(least(referral_date, assessment_date, rehab_admission_date)) from scoped),
        (select max(greatest(referral_date, assessment_date, rehab_admission_date)) from scoped)
    ) q
    left join scoped s on true
    group by grouping sets ((q.quarter_start, s.offending_area), (q.quarter_start))
),

final as (
    select quarter_start, offending_area, is_total, referrals, assessed, entered_rehab
    from counted
    where is_total or referrals + assessed + entered_rehab > 0
)

select * from final
-- By name, never by count: the circulated pack withholds small counts, and rows listed
-- largest first would rank the withheld ones (seven areas of '<5' adding to 8, one
-- listed out of alphabetical order, gave it away as the 2).
order by quarter_start, is_total, offending_area
