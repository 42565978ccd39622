-- course_attendees(snapshot, scope_officers, officer, area, referral_source, from_date,
-- to_date): one row per scoped referral that started the pre-admission course in the period
-- (by course start date), with the days from course start to rehab admission for those
-- admitted on or after the course start (null for the others: not admitted after the course).
create or replace macro course_attendees(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source, p_from_date, p_to_date
) as table
    select
        pre_admission_start_date,
        rehab_admission_date,
        case when rehab_admission_date >= pre_admission_start_date
             then date_diff('day', pre_admission_start_date, rehab_admission_date) end
            as days_to_admission
    from scoped_referrals(p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source)
    where in_period(pre_admission_start_date, p_from_date, p_to_date);
