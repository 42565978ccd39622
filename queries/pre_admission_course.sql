-- grain: one row: pre-admission course attendees (by course start date) and how many were then
--   admitted to rehab.
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the course start
-- access: referrals
with attendees as (
    select *
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source)
    where pre_admission_start_date is not null
      and ($from_date::date is null or pre_admission_start_date >= $from_date::date)
      and ($to_date::date is null or pre_admission_start_date <= $to_date::date)
),

final as (
    select
        count(*) as attendees,
        count(*) filter (where rehab_admission_date >= pre_admission_start_date)
            as admitted_after_course
    from attendees
)

select * from final
