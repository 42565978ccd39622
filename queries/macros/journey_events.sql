-- journey_steps(): the steps of the journey a referral is counted at by its own event date.
create or replace macro journey_steps() as table
    select * from (values (1, 'Referrals'), (2, 'Contacted'), (3, 'Assessed'),
                          (4, 'Entered rehab'), (5, 'Completed 12 weeks')) as s(step_order, step);

-- journey_events(snapshot, scope_officers, officer, area, referral_source): one row per scoped
-- referral per journey step, with the date it reached that step (null while it has not):
-- referral, first contact, police assessment, rehab admission, and for 'Completed 12 weeks'
-- the exit date of an exit with reason Completed.
create or replace macro journey_events(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source
) as table
    select
        s.step_order,
        s.step,
        case s.step_order
            when 1 then r.referral_date
            when 2 then r.first_contact_date
            when 3 then r.assessment_date
            when 4 then r.rehab_admission_date
            when 5 then case when r.rehab_exit_reason = 'Completed' then r.rehab_exit_date end
        end as event_date
    from scoped_referrals(p_snapshot_id, p_scope_officers, p_officer, p_area,
                          p_referral_source) r
    cross join journey_steps() s;
