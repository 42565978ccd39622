-- grain: one row per outcome group (the two that left rehab) per days after rehab exit per
--   whether an offence was recorded: referrals, for Kaplan-Meier time to the first
--   police-recorded offence (Connect) after exit. Someone with none is censored at the latest
--   Connect upload's as-at date; exits after that date are left out (no follow-up yet).
-- params: $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date
-- $to_date is the exit date
-- access: referrals
with first_offence as (
    select outcome_group, rehab_exit_date, window_end as connect_as_at, first_offence_date
    -- with no window length, the window runs to the latest Connect upload's as-at date
    from exit_offences($snapshot_id, $scope_officers, $officer, $area, $referral_source,
                       $from_date, $to_date, null)
    where rehab_exit_date < latest_connect_as_at()
),

final as (
    select
        outcome_group,
        date_diff('day', rehab_exit_date, coalesce(first_offence_date, connect_as_at)) as days,
        first_offence_date is not null as has_offended,
        count(*) as referrals
    from first_offence
    group by all
)

select * from final
order by outcome_group, days, has_offended
