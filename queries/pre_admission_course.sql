-- one row: pre-admission course attendees (by course start date) and how many were then
-- admitted to rehab. params: $snapshot_id, $from_date, $to_date (course start), $officer, $area, $scope_officers
-- access: referrals
with attendees as (
    select *
    from referrals
    where snapshot_id = $snapshot_id
      and pre_admission_start_date is not null
      and ($from_date::date is null or pre_admission_start_date >= $from_date::date)
      and ($to_date::date is null or pre_admission_start_date <= $to_date::date)
      and ($officer::varchar is null or officer = $officer::varchar)
      and ($scope_officers::varchar[] is null
           or list_contains($scope_officers::varchar[], officer))
      and ($area::varchar is null or offending_area = $area::varchar)
),

final as (
    select
        count(*) as attendees,
        count(*) filter (where rehab_admission_date >= pre_admission_start_date)
            as admitted_after_course
    from attendees
)

select * from final
