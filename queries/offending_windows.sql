-- grain: one row per outcome group per window: police-recorded offences (Connect) of the
--   group's referrals within the window, the person-years observed, the value stolen, and the
--   same referrals' offences in the window before referral (the baseline, for the after/before
--   ratio).
-- params: $before_days, $after_referral_days, $after_exit_days, $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date, $offence_type
-- $from_date and $to_date bound the referral date; $before_days (default 365),
-- $after_referral_days and $after_exit_days (default 182) are the window lengths;
-- $offence_type counts only offences of that type (default every type).
-- Windows (dates inclusive): before referral: referral - before_days .. referral - 1;
-- after referral: referral .. referral + after_referral_days - 1; during rehab: admission ..
-- exit (or the tracker's as-at date while still in rehab); after rehab exit: exit + 1 .. exit +
-- after_exit_days. A window counts only once it ends on or before the latest Connect upload's
-- as-at date (during rehab: observed up to that date); the others are not yet followed up and
-- are counted in referrals_not_followed_up, never as zero offences.
-- access: referrals
--
-- The windows are the referral_windows macro's, the counting offending_window_counts' (both
-- shared with offending_windows_by_type). The offences in each window come from window_facts
-- (counted when data lands, for the latest snapshot in force at window lengths of 91, 182, 365
-- or 730 days) whenever it fits; any other snapshot or length is counted from the crimes.
select * exclude (offence_type)
from offending_window_counts(
    $snapshot_id, $scope_officers, $officer, $area, $referral_source, $from_date, $to_date,
    $before_days, $after_referral_days, $after_exit_days,
    [$offence_type::varchar], $offence_type::varchar is null,
    -- the lengths window_facts holds (WINDOW_DAYS); a null length is its default, held too
    coalesce($before_days::integer in (91, 182, 365, 730), true)
    and coalesce($after_referral_days::integer in (91, 182, 365, 730), true)
    and coalesce($after_exit_days::integer in (91, 182, 365, 730), true))
order by group_order, window_order
