-- grain: one row: referrals in residential rehab at the end of the period in the snapshot, that
--   is admitted on or before $to_date and not yet left by then (with no $to_date: not yet
--   left).
-- params: $snapshot_id, $scope_officers, $to_date
-- access: referrals
-- An exit reason with no exit date counts as left: the snapshot says so by its as-at date.
with scoped as (
    select rehab_admission_date, rehab_exit_date, rehab_exit_reason
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
    where rehab_admission_date is not null
),

final as (
    select count(*) filter (
        where rehab_admission_date <= coalesce($to_date::date, rehab_admission_date)
          and (rehab_exit_date > $to_date::date
               or (rehab_exit_date is null and rehab_exit_reason is null))
    ) as n_in_rehab
    from scoped
)

select * from final
