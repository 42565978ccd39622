-- grain: one row per reason for leaving rehab other than Completed, plus the total row
--   (is_total): rehab exits in the period, by exit date. An exit date with no reason counts as
--   'Reason not recorded'.
-- params: $snapshot_id, $scope_officers, $from_date, $to_date
-- access: referrals
with exits as (
    select coalesce(rehab_exit_reason, 'Reason not recorded') as exit_reason
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
    where rehab_exit_reason is distinct from 'Completed'
      and in_period(rehab_exit_date, $from_date, $to_date)
),

final as (
    select
        exit_reason,
        grouping(exit_reason) = 1 as is_total,
        count(*) as referrals
    from exits
    group by grouping sets ((exit_reason), ())
)

select * from final
-- By name, never by count: the circulated pack withholds small counts, and rows listed
-- largest first would rank the withheld ones (seven areas of '<5' adding to 8, one
-- listed out of alphabetical order, gave it away as the 2).
order by is_total, exit_reason
