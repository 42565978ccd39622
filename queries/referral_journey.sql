-- grain: one row per link of the journey from referral (source -> target) with the referrals on
--   it: every referral received in the period (by referral date), how far it has got by the
--   snapshot date, and whether the ones that stopped are still open or closed.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the referral date
-- access: referrals
-- A later step's date counts as having passed the earlier steps, as in the cohort funnel.
with referred as (
    select *,
           status in ('Inactive', 'Withdrawn')
           or outcome in ('Not interested', 'Did not meet criteria', 'Withdrawn', 'Deceased',
                          'Diverted - partner agency', 'Diverted - prison') as is_closed
    from referred_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
),

staged as (
    select
        case
            when coalesce(first_contact_date, assessment_date, rehab_admission_date) is not null
                then 'Contacted'
            when is_closed then 'Closed before contact'
            else 'Waiting for contact'
        end as contact,
        case
            when coalesce(assessment_date, rehab_admission_date) is not null then 'Assessed'
            when is_closed then 'Closed before assessment'
            else 'Waiting for assessment'
        end as assessment,
        case
            when rehab_admission_date is not null then 'Entered rehab'
            when is_closed then 'Closed before rehab'
            else 'Not yet in rehab'
        end as rehab,
        case
            when rehab_exit_reason = 'Completed' then 'Completed 12 weeks'
            when rehab_exit_date is not null or rehab_exit_reason is not null
                then 'Left rehab early'
            else 'Still in rehab'
        end as result
    from referred
),

links as (
    select 1 as level, 'Referrals' as source, contact as target from staged
    union all
    select 2, 'Contacted', assessment from staged where contact = 'Contacted'
    union all
    select 3, 'Assessed', rehab from staged where assessment = 'Assessed'
    union all
    select 4, 'Entered rehab', result from staged where rehab = 'Entered rehab'
),

final as (
    select level, source, target, count(*) as referrals
    from links
    group by all
)

select source, target, referrals from final
order by level, referrals desc, target
