-- grain: one row per facility per pre-admission course (yes/no) per days in rehab per whether
--   the stay has ended: admissions (by admission date in the period) for Kaplan-Meier
--   retention. A stay still going is censored at the snapshot's as-at date (days = as-at date -
--   admission date).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the admission date
-- access: referrals
with snapshot as (
    select as_at_date
    from uploads
    where upload_id = $snapshot_id
),

admitted as (
    select
        r.rehab_facility,
        case when r.pre_admission_start_date is not null
                  and r.pre_admission_start_date <= r.rehab_admission_date
             then 'Took the pre-admission course' else 'No pre-admission course' end
            as pre_admission_course,
        date_diff('day', r.rehab_admission_date,
                  coalesce(r.rehab_exit_date, s.as_at_date)) as days,
        r.rehab_exit_date is not null as has_left,
        coalesce(r.rehab_exit_reason = 'Completed', false) as is_completed
    from scoped_referrals($snapshot_id, $scope_officers, $officer, $area, $referral_source) r
    cross join snapshot s
    where r.rehab_admission_date is not null
      and in_period(r.rehab_admission_date, $from_date, $to_date)
),

final as (
    select rehab_facility, pre_admission_course, days, has_left, is_completed,
        count(*) as admissions
    from admitted
    group by all
)

select * from final
order by rehab_facility, pre_admission_course, days, has_left
