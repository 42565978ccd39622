-- one row per tracker snapshot, newest first. params: none
-- access: programme
with final as (
    select
        upload_id as snapshot_id, as_at_date, file_name, row_count as referrals,
        uploaded_at, uploaded_by, is_demo
    from uploads
    where kind = 'tracker'
)

select * from final
order by as_at_date desc, snapshot_id desc
