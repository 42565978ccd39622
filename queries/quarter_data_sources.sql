-- grain: one row per upload (tracker snapshot or Connect extract): its id, kind and as-at date,
--   newest first.
-- params: none
-- access: programme
-- Unlike uploads.sql (admin only) it holds no file names, hashes or uploaders.
with final as (
    select upload_id, kind, as_at_date, is_demo
    from uploads
    where upload_id not in (select snapshot_id from snapshot_withdrawals)
)

select * from final
order by kind, as_at_date desc, upload_id desc
