-- The data-quality rules: checks that do not reject an upload (ingest does that) but flag rows
-- that deserve a look in the tracker. Each rule is named and described once, here: the Data
-- page lists them (queries/data_quality_rules.sql), data_quality.sql lists the referrals that
-- break them and quarter_data_quality.sql counts those referrals for the pack.

-- data_quality_rules(): one row per rule: its key, the issue it reports and what it checks.
create or replace macro data_quality_rules() as table
    select * from (values
        (1, 'exit_reason_no_date', 'Exit reason but no exit date',
         'A rehab exit reason with no exit date'),
        (2, 'active_but_ended', 'Active but outcome says the case ended',
         'Status Active but an outcome that ends the case (Withdrawn, Deceased, Not interested, '
         || 'Did not meet criteria)'),
        (3, 'waiting_but_assessed', 'Referral/Waiting but already assessed or admitted',
         'Status Referral/Waiting but already assessed or admitted to rehab'),
        (4, 'admitted_not_assessed', 'Admitted to rehab with no police assessment date',
         'Admitted to rehab with no police assessment date'),
        (5, 'admitted_not_contacted', 'Admitted to rehab with no first contact date',
         'Admitted to rehab with no first contact date'),
        (6, 'long_stay', 'In rehab for more than 12 weeks',
         'In rehab (admitted, not exited) for more than 12 weeks (84 days) by the as-at date'),
        (7, 'short_completion', 'Completed 12 weeks in fewer than 84 days',
         'Exit reason Completed after fewer than 84 days in rehab (figures still count it as '
         || 'completed, as recorded)'),
        (8, 'no_area', 'No offending area', 'No offending area'),
        (9, 'unallocated', 'Officer unallocated', 'Officer Unallocated'),
        (10, 'no_status', 'Status not recorded', 'Status not recorded')
    ) as rules(rule_order, rule, issue, description);

-- data_quality_issues(snapshot, scope_officers, officer, area, referral_source): one row per
-- scoped referral per rule it breaks, with the issue and the detail that shows it.
create or replace macro data_quality_issues(
    p_snapshot_id, p_scope_officers, p_officer, p_area, p_referral_source
) as table
    with snapshot as (
        select r.*, u.as_at_date
        from scoped_referrals(p_snapshot_id, p_scope_officers, p_officer, p_area,
                              p_referral_source) r
        inner join o2r.uploads u on u.upload_id = r.snapshot_id
    ),

    broken as (
        select nominal_id, officer, referral_date, source_row, unnest(list_filter([
            case when rehab_exit_reason is not null and rehab_exit_date is null then {
                'rule': 'exit_reason_no_date',
                'detail': 'Exit reason ' || rehab_exit_reason || ', no rehab exit date'} end,
            case when status = 'Active' and outcome in ('Withdrawn', 'Deceased',
                                                        'Not interested', 'Did not meet criteria')
            then {'rule': 'active_but_ended', 'detail': 'Status Active, outcome ' || outcome} end,
            case when status = 'Referral/Waiting'
                      and (assessment_date is not null or rehab_admission_date is not null) then {
                'rule': 'waiting_but_assessed',
                'detail': concat_ws('; ', 'Status Referral/Waiting',
                                    'assessed ' || strftime(assessment_date, '%d/%m/%Y'),
                                    'admitted to rehab '
                                    || strftime(rehab_admission_date, '%d/%m/%Y'))} end,
            case when rehab_admission_date is not null and assessment_date is null then {
                'rule': 'admitted_not_assessed',
                'detail': 'Admitted to rehab ' || strftime(rehab_admission_date, '%d/%m/%Y')} end,
            case when rehab_admission_date is not null and first_contact_date is null then {
                'rule': 'admitted_not_contacted',
                'detail': 'Admitted to rehab ' || strftime(rehab_admission_date, '%d/%m/%Y')} end,
            -- an exit reason with no date is flagged by the first rule
            case when rehab_admission_date is not null and rehab_exit_date is null
                      and rehab_exit_reason is null and as_at_date - rehab_admission_date > 84
            then {'rule': 'long_stay',
                  'detail': 'Admitted ' || strftime(rehab_admission_date, '%d/%m/%Y')
                      || ', no exit date: ' || (as_at_date - rehab_admission_date)
                      || ' days by the as-at date ' || strftime(as_at_date, '%d/%m/%Y')} end,
            case when rehab_exit_reason = 'Completed'
                      and rehab_exit_date - rehab_admission_date < 84 then {
                'rule': 'short_completion',
                'detail': 'Exit reason Completed after ' || (rehab_exit_date - rehab_admission_date)
                    || ' days in rehab (admitted ' || strftime(rehab_admission_date, '%d/%m/%Y')
                    || ', left ' || strftime(rehab_exit_date, '%d/%m/%Y') || ')'} end,
            case when offending_area is null then {
                'rule': 'no_area', 'detail': 'Offending area is blank'} end,
            case when officer = 'Unallocated' then {
                'rule': 'unallocated', 'detail': 'No officer assigned'} end,
            case when status = 'Not recorded' then {
                'rule': 'no_status', 'detail': 'Status is blank'} end
        ], lambda found: found is not null), recursive := true)
        from snapshot
    )

    select b.nominal_id, b.officer, b.referral_date, b.source_row, rules.issue, b.detail
    from broken b
    inner join data_quality_rules() rules using (rule);
