-- grain: one row per quarter of the period (quarter_start; a period left open runs from or to the
--   first or last quarter with a date counted) per reason for leaving rehab other than Completed,
--   plus each quarter's total row (is_total): rehab exits in the quarter, by exit date. An exit
--   date with no reason counts as 'Reason not recorded'.
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with exits as (
    select coalesce(rehab_exit_reason, 'Reason not recorded') as exit_reason, rehab_exit_date
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
    where rehab_exit_reason is distinct from 'Completed'
      and in_period(rehab_exit_date, $from_date, $to_date)
),

final as (
    select
        q.quarter_start,
        e.exit_reason,
        grouping(e.exit_reason) = 1 as is_total,
        count(e.exit_reason) as referrals
    from period_quarters($from_date, $to_date, (select min(rehab_exit_date) from exits),
                         (select max(rehab_exit_date) from exits)) q
    left join exits e on in_period(e.rehab_exit_date, q.from_date, q.to_date)
    group by grouping sets ((q.quarter_start, e.exit_reason), (q.quarter_start))
    -- a quarter with no exits still has its total row (0), and no reason row
    having grouping(e.exit_reason) = 1 or e.exit_reason is not null
)

select * from final
-- By name, never by count: the circulated pack withholds small counts, and rows listed
-- largest first would rank the withheld ones (seven areas of '<5' adding to 8, one
-- listed out of alphabetical order, gave it away as the 2).
order by quarter_start, is_total, exit_reason
