-- grain: one row per recorded outcome, plus one total row per outcome group (is_group_total;
--   the two diversions, partner agency and prison, form the group 'Diversions'): referrals
--   whose latest dated event falls in the period.
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
        outcome,
        case when outcome in ('Diverted - partner agency', 'Diverted - prison')
             then 'Diversions' else outcome end as outcome_group
    from dated
    where in_period(latest_event_date, $from_date, $to_date)
),

final as (
    select
        outcome_group,
        outcome,
        grouping(outcome) = 1 as is_group_total,
        count(*) as referrals
    from in_period
    group by grouping sets ((outcome_group, outcome), (outcome_group))
)

select * from final
order by outcome_group, is_group_total, outcome
