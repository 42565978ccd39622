-- grain: one row per snapshot and date asked for: referrals in residential rehab at the end of
--   that date in that snapshot, as quarter_in_rehab counts them ($to_dates pairs with
--   $snapshot_ids by position; a null date: not yet left), for several in one run.
-- params: $snapshot_ids, $to_dates, $scope_officers
-- access: referrals
-- An exit reason with no exit date counts as left: the snapshot says so by its as-at date.
with asked as (
    select
        ($snapshot_ids::integer[])[i] as snapshot_id,
        ($to_dates::date[])[i] as to_date
    from range(1, len($snapshot_ids::integer[]) + 1) as positions(i)
),

admitted as (
    select snapshot_id, rehab_admission_date, rehab_exit_date, rehab_exit_reason
    from scoped_referrals(null, $scope_officers, null, null, null)
    where rehab_admission_date is not null
      and snapshot_id in (select snapshot_id from asked)
),

final as (
    select
        asked.snapshot_id,
        asked.to_date,
        count(admitted.snapshot_id) filter (
            where admitted.rehab_admission_date
                      <= coalesce(asked.to_date, admitted.rehab_admission_date)
              and (admitted.rehab_exit_date > asked.to_date
                   or (admitted.rehab_exit_date is null
                       and admitted.rehab_exit_reason is null))
        ) as n_in_rehab
    from asked
    left join admitted on admitted.snapshot_id = asked.snapshot_id
    group by asked.snapshot_id, asked.to_date
)

select * from final
order by snapshot_id, to_date
