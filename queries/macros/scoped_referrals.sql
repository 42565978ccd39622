-- scoped_referrals(snapshot, scope_officers, officer, area, referral_source): the referrals
-- every referral-reading query starts from. Null arguments filter nothing, except that an
-- officer's scope (a list, bound by dashboard/access.py) always applies: an empty list
-- matches no one. A null snapshot means every snapshot. A withdrawn snapshot is never read.
create or replace macro scoped_referrals(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source
) as table
    select *
    from o2r.referrals
    where (p_snapshot_id::integer is null or snapshot_id = p_snapshot_id::integer)
      and snapshot_id not in (select snapshot_id from o2r.snapshot_withdrawals)
      and (p_scope_officers::varchar[] is null
           or list_contains(p_scope_officers::varchar[], officer))
      and (p_officer::varchar is null or officer = p_officer::varchar)
      and (p_area::varchar is null or offending_area = p_area::varchar)
      and (p_referral_source::varchar is null or referral_source = p_referral_source::varchar)
