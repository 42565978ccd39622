-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to
--   the first or last quarter with a course start): pre-admission course attendees (by course
--   start date) and how many were then admitted to rehab (on or after the course start), as
--   the quarterly pack counts them.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the course start
-- access: referrals
-- The same attendees as course_to_admission.sql, without the days to admission.
with attendees as (
    select pre_admission_start_date, days_to_admission
    from course_attendees($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                          $from_date, $to_date)
),

final as (
    select
        q.quarter_start,
        count(a.pre_admission_start_date) as attendees,
        count(a.days_to_admission) as admitted_after_course
    from period_quarters($from_date, $to_date,
                         (select min(pre_admission_start_date) from attendees),
                         (select max(pre_admission_start_date) from attendees)) q
    left join attendees a on in_period(a.pre_admission_start_date, q.from_date, q.to_date)
    group by q.quarter_start
)

select * from final
order by quarter_start
