-- grain: one row: pre-admission course attendees (by course start date in the period), how many
--   were then admitted to rehab, and the days from course start to admission (quartiles).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the course start
-- access: referrals
with final as (
    select
        count(*) as attendees,
        count(days_to_admission) as admitted_after_course,
        quantile_cont(days_to_admission, 0.25) as days_to_admission_p25,
        median(days_to_admission) as days_to_admission_median,
        quantile_cont(days_to_admission, 0.75) as days_to_admission_p75
    from course_attendees($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                          $from_date, $to_date)
)

select * from final
