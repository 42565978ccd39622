-- grain: one row: pre-admission course attendees (by course start date) and how many were then
--   admitted to rehab (on or after the course start), as the quarterly pack counts them.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the course start
-- access: referrals
-- The same attendees as course_to_admission.sql, without the days to admission.
with final as (
    select count(*) as attendees, count(days_to_admission) as admitted_after_course
    from course_attendees($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                          $from_date, $to_date)
)

select * from final
