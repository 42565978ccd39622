-- grain: one row per facility per pre-admission course (yes/no) per days in rehab per whether
--   the stay has ended: admissions (by admission date in the period) for Kaplan-Meier
--   retention. A stay still going is censored at the snapshot's as-at date (days = as-at date -
--   admission date).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the admission date
-- access: referrals
with final as (
    select rehab_facility, pre_admission_course, days, has_left, is_completed,
        count(*) as admissions
    from rehab_admissions($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                          $from_date, $to_date)
    group by all
)

select * from final
order by rehab_facility, pre_admission_course, days, has_left, is_completed
