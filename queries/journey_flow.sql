-- grain: one row per link of the client journey (source -> target) with the referrals on it:
--   referrals that reached a police assessment in the period (period = assessment date).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the assessment date
-- access: referrals
-- Entering rehab outranks any outcome; nodes with no one on them do not appear.
with assessed as (
    select *
    from assessed_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
),

staged as (
    select
        case
            when rehab_admission_date is not null then 'Being worked with'
            when outcome in ('Not interested', 'Did not meet criteria', 'Withdrawn', 'Deceased')
                then 'Inactive/withdrawn'
            else 'Being worked with'
        end as stage,
        case
            when rehab_admission_date is not null then 'Residential rehab'
            when outcome in ('Not interested', 'Did not meet criteria', 'Withdrawn', 'Deceased')
                then outcome
            when outcome in ('Diverted - partner agency', 'Diverted - prison')
                then 'Diverted to other services'
            else 'Preparing for rehab'
        end as pathway,
        case
            when rehab_admission_date is not null and rehab_exit_date is null then 'In rehab'
            when rehab_exit_reason = 'Completed' then 'Completed 12 weeks'
            when rehab_admission_date is not null then 'Discharged early'
            when outcome = 'Diverted - partner agency' then 'Partner agency'
            when outcome = 'Diverted - prison' then 'Prison'
        end as result,
        case
            when rehab_admission_date is null or rehab_exit_date is null
                 or rehab_exit_reason = 'Completed' then null
            when outcome in ('Withdrawn', 'Deceased', 'Ongoing engagement') then outcome
            when outcome is null then 'Outcome not recorded'
            else 'Other outcome'
        end as after_discharge
    from assessed
),

links as (
    select 'Referrals' as source, stage as target from staged
    union all
    select stage, pathway from staged
    union all
    select pathway, result from staged where result is not null
    union all
    select result, after_discharge from staged where after_discharge is not null
),

final as (
    select source, target, count(*) as referrals
    from links
    group by source, target
)

select * from final
order by
    case source when 'Referrals' then 1 when 'Inactive/withdrawn' then 2
                when 'Being worked with' then 3 when 'Diverted to other services' then 4
                when 'Residential rehab' then 5 else 6 end,
    referrals desc, target
