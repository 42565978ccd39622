-- grain: one row per tracker snapshot: those in force first, newest first, then any withdrawn,
--   with its file, who uploaded it, and who withdrew it and why (the Data page's record).
-- params: none
-- access: admin
-- Names and a typed reason: admin only. Every other role reads snapshots.sql.
with final as (
    select
        u.upload_id as snapshot_id, u.as_at_date, u.file_name,
        u.uploaded_at, u.uploaded_by, u.is_demo,
        w.snapshot_id is not null as is_withdrawn, w.withdrawn_by, w.reason as withdrawn_reason
    from uploads u
    left join snapshot_withdrawals w on w.snapshot_id = u.upload_id
    where u.kind = 'tracker'
)

select * from final
order by is_withdrawn, as_at_date desc, snapshot_id desc
