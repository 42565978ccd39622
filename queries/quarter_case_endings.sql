-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to the
--   first or last quarter with a date counted) per recorded outcome, plus one total row per quarter
--   per outcome group (is_group_total; the two diversions, partner agency and prison, form the
--   group 'Diversions'): referrals whose latest dated event falls in the quarter (a quarter with
--   none has no rows).
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
-- The tracker gives outcomes no date, so the latest of a referral's journey dates stands in.
with dated as (
    select
        outcome,
        greatest(referral_date, first_contact_date, assessment_date, pre_admission_start_date,
                 rehab_assessment_date, rehab_admission_date, rehab_exit_date)
            as latest_event_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
    where outcome is not null
),

in_period as (
    select
        q.quarter_start,
        d.outcome,
        case when d.outcome in ('Diverted - partner agency', 'Diverted - prison')
             then 'Diversions' else d.outcome end as outcome_group
    from dated d
    inner join period_quarters($from_date, $to_date, (select min(latest_event_date) from dated),
                               (select max(latest_event_date) from dated)) q
        on in_period(d.latest_event_date, q.from_date, q.to_date)
),

final as (
    select
        quarter_start,
        outcome_group,
        outcome,
        grouping(outcome) = 1 as is_group_total,
        count(*) as referrals
    from in_period
    group by grouping sets ((quarter_start, outcome_group, outcome),
                            (quarter_start, outcome_group))
)

select * from final
order by quarter_start, outcome_group, is_group_total, outcome
