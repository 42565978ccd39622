-- grain: one row per kind of upload (tracker, connect) in force: the latest as-at date and when
--   it was uploaded, so pages can say how old the data is.
-- params: none
-- access: programme
with in_force as (
    select *
    from uploads
    where upload_id not in (select snapshot_id from snapshot_withdrawals)
),

final as (
    select kind, max(as_at_date) as as_at_date, max(uploaded_at) as uploaded_at
    from in_force
    group by kind
)

select * from final
order by kind desc
