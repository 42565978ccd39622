-- grain: one row per tracker snapshot: those in force first, newest first, then any withdrawn.
-- params: none
-- access: programme
-- Dates and flags only: no file name, uploader, or withdrawal's who and why (typed text that
-- may name a person), which every role could otherwise read (snapshot_history.sql has them).
with final as (
    select
        u.upload_id as snapshot_id, u.as_at_date, u.is_demo,
        w.snapshot_id is not null as is_withdrawn
    from uploads u
    left join snapshot_withdrawals w on w.snapshot_id = u.upload_id
    where u.kind = 'tracker'
)

select * from final
order by is_withdrawn, as_at_date desc, snapshot_id desc
