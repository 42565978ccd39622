-- grain: one row per referral (person-level: nominal IDs) in the latest snapshot, with its
--   dates, furthest stage reached and status, for reconciling with an officer's own records.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the referral date
-- access: person
with final as (
    select
        nominal_id, officer, referral_date, referral_source, offending_area, status,
        case
            when rehab_exit_reason = 'Completed' then 'Completed 12 weeks'
            when rehab_exit_date is not null then 'Left rehab early'
            when rehab_admission_date is not null then 'In rehab'
            when pre_admission_start_date is not null then 'Pre-admission course'
            when assessment_date is not null then 'Assessed'
            when first_contact_date is not null then 'Contacted'
            else 'Referred'
        end as stage,
        first_contact_date, assessment_date, pre_admission_start_date,
        rehab_admission_date, rehab_facility, rehab_exit_date, rehab_exit_reason, outcome
    from referred_in_period($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                            $from_date, $to_date)
)

select * from final
order by referral_date desc, nominal_id
