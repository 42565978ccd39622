-- grain: one row per primary offending area, plus the total row (is_total): referrals received,
--   police assessments and rehab admissions in the period, each counted by its own event date.
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
-- Areas with none of the three in the period are left out; the total row is always there.
with scoped as (
    select
        coalesce(offending_area, 'Not recorded') as offending_area,
        referral_date, assessment_date, rehab_admission_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

counted as (
    select
        offending_area,
        grouping(offending_area) = 1 as is_total,
        count(*) filter (where in_period(referral_date, $from_date, $to_date))
            as referrals,
        count(*) filter (where in_period(assessment_date, $from_date, $to_date))
            as assessed,
        count(*) filter (
            where in_period(rehab_admission_date, $from_date, $to_date))
            as entered_rehab
    from scoped
    group by grouping sets ((offending_area), ())
),

final as (
    select offending_area, is_total, referrals, assessed, entered_rehab
    from counted
    where is_total or referrals + assessed + entered_rehab > 0
)

select * from final
-- By name, never by count: the circulated pack withholds small counts, and rows listed
-- largest first would rank the withheld ones (seven areas of '<5' adding to 8, one
-- listed out of alphabetical order, gave it away as the 2).
order by is_total, offending_area
