-- grain: one row: whether everything stored is the synthetic demo data (true when nothing is).
-- params: none
-- access: programme
with final as (
    select coalesce(bool_and(is_demo), true) as demo_only from uploads
)

select * from final
