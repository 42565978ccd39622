-- referrals_on_basis(snapshot, scope_officers, officer, area, referral_source, assessed_only,
-- from_date, to_date): the scoped referrals counted on one of two bases. By default every
-- referral, the period applying to its referral date; with assessed_only true only referrals
-- that reached a police assessment, the period applying to the assessment date (the
-- evaluation's "first 60" basis).
create or replace macro referrals_on_basis(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_assessed_only,
    p_from_date, p_to_date
) as table
    select *
    from scoped_referrals(p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source)
    -- a referral never assessed has no assessment date, so is in no period on that basis
    where in_period(case when coalesce(p_assessed_only::boolean, false) then assessment_date
                         else referral_date end,
                    p_from_date, p_to_date);

-- referred_in_period(snapshot, scope_officers, officer, area, referral_source, from_date,
-- to_date): the scoped referrals received in the period (by referral date).
create or replace macro referred_in_period(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date
) as table
    select * from referrals_on_basis(p_snapshot_id, p_scope_officers, p_officer, p_area,
                                     p_referral_source, false, p_from_date, p_to_date);

-- assessed_in_period(snapshot, scope_officers, officer, area, referral_source, from_date,
-- to_date): the scoped referrals given a police assessment in the period (by assessment date).
create or replace macro assessed_in_period(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date
) as table
    select * from referrals_on_basis(p_snapshot_id, p_scope_officers, p_officer, p_area,
                                     p_referral_source, true, p_from_date, p_to_date);
