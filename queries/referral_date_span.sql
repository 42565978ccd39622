-- grain: one row: the first and last referral date in the snapshot (the latest unless
--   $snapshot_id), which bound the quarters a pack can be asked for.
-- params: $snapshot_id
-- access: programme
-- Dates only, no counts: every role may see them.
with span as (
    select min(referral_date) as first_referral_date, max(referral_date) as last_referral_date
    from scoped_referrals($snapshot_id, null, null, null, null)
)

select * from span
