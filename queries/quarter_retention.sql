-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to
--   the first or last quarter with an admission): rehab admissions in the quarter (by
--   admission date) that stayed 12 weeks (84 days) or left with exit reason Completed
--   (retained), left before 12 weeks otherwise (left_early), or are still in rehab under 12
--   weeks at the snapshot's as-at date (still_in), as the quarterly pack's Retention table
--   counts them (the Outcomes page draws the same stays, rehab_stays.sql, as a curve).
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with admitted as (
    select rehab_admission_date, coalesce(days >= 84 or is_completed, false) as is_retained,
           has_left
    from rehab_admissions($snapshot_id, $scope_officers, null, null, null, $from_date,
                          $to_date)
),

final as (
    select
        q.quarter_start,
        count(*) filter (where a.is_retained) as retained,
        count(*) filter (where not a.is_retained and a.has_left) as left_early,
        count(*) filter (where not a.is_retained and not a.has_left) as still_in
    from period_quarters($from_date, $to_date,
                         (select min(rehab_admission_date) from admitted),
                         (select max(rehab_admission_date) from admitted)) q
    left join admitted a on in_period(a.rehab_admission_date, q.from_date, q.to_date)
    group by q.quarter_start
)

select * from final
order by quarter_start
