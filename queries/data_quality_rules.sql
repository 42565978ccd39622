-- grain: one row per data-quality rule, in order: the issue it reports and what it checks.
-- params: none
-- access: programme
with final as (
    select rule_order, issue, description
    from data_quality_rules()
)

select issue, description from final
order by rule_order
