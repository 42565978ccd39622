-- grain: one row per offence type per outcome group per window: offending_windows for each
--   offence type in $offence_types at once (each type's rows are exactly what offending_windows
--   gives with that $offence_type), for the cost of offences avoided by type.
-- params: $before_days, $after_referral_days, $after_exit_days, $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date, $offence_types
-- $from_date and $to_date bound the referral date; $before_days (default 365),
-- $after_referral_days and $after_exit_days (default 182) are the window lengths;
-- $offence_types lists the offence types to count (a type with no offences still gets its
-- rows); by default every type the latest snapshot's people have offences of (crime_facts).
-- The windows, groups and follow-up rules are offending_windows' (the referral_windows macro,
-- shared); only the offences, the value stolen and the baseline differ by type, so they are
-- counted from the windows that have any offence of the type, and the rest once for every type.
-- Windows (dates inclusive): before referral: referral - before_days .. referral - 1;
-- after referral: referral .. referral + after_referral_days - 1; during rehab: admission ..
-- exit (or the tracker's as-at date while still in rehab); after rehab exit: exit + 1 .. exit +
-- after_exit_days. A window counts only once it ends on or before the latest Connect upload's
-- as-at date (during rehab: observed up to that date); the others are not yet followed up and
-- are counted in referrals_not_followed_up, never as zero offences.
-- access: referrals
--
-- As in offending_windows (the same macros count both), the offences in each window come from
-- window_facts (counted when data lands, for the latest snapshot in force at window lengths of
-- 91, 182, 365 or 730 days) whenever it fits; any other snapshot or length is counted from the
-- crimes themselves.
select *
from offending_window_counts(
    $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date,
    $before_days, $after_referral_days, $after_exit_days,
    coalesce($offence_types::varchar[], (select list(distinct offence_type) from crime_facts)),
    false,
    -- the lengths window_facts holds (WINDOW_DAYS); a null length is its default, held too
    coalesce($before_days::integer in (91, 182, 365, 730), true)
    and coalesce($after_referral_days::integer in (91, 182, 365, 730), true)
    and coalesce($after_exit_days::integer in (91, 182, 365, 730), true))
order by offence_type, group_order, window_order
