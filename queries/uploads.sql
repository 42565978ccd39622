-- grain: one row per upload (tracker snapshots and Connect extracts), newest first.
-- params: none
-- access: admin
with final as (
    select upload_id, kind, file_name, sha256, as_at_date, row_count, uploaded_at,
           uploaded_by, is_demo
    from uploads
)

select * from final
order by upload_id desc
