-- in_period(day, from_date, to_date): whether a date falls in the period, both ends included.
-- A null end leaves that side open; a missing date is in no period. Each end is written as
-- "bound is null or day >= bound": with the bound given, DuckDB folds it to a plain range
-- filter it can push into the scan (crimes are stored in offence-date order for that).
create or replace macro in_period(p_day, p_from_date, p_to_date) as
    p_day is not null
    and (p_from_date::date is null or p_day >= p_from_date::date)
    and (p_to_date::date is null or p_day <= p_to_date::date);

-- month_in_period(day, from_date, to_date): whether the whole calendar month of a date lies in
-- the period (the months crime_facts can count whole).
create or replace macro month_in_period(p_day, p_from_date, p_to_date) as
    p_day is not null
    and (p_from_date::date is null or date_trunc('month', p_day) >= p_from_date::date)
    and (p_to_date::date is null or last_day(p_day) <= p_to_date::date);

-- period_quarters(from_date, to_date, first_day, last_day): one row per quarter the period
-- touches, its first day (quarter_start; financial and calendar quarters both start on 1
-- January, April, July and October) and the part of it in the period (from_date to to_date,
-- both included), so one query counts every quarter of a pack's history. A period left open
-- at either end runs from the query's first_day or to its last_day (its earliest and latest
-- dates counted), or from or to the end given if that reaches further; left open at both ends
-- with nothing counted, no quarters.
create or replace macro period_quarters(p_from_date, p_to_date, p_first_day, p_last_day) as table
    with bounds as (
        -- an end given with nothing counted beyond it still has its quarter (of zeros)
        select coalesce(p_from_date::date, least(p_first_day::date, p_to_date::date))
                   as period_from,
               coalesce(p_to_date::date, greatest(p_last_day::date, p_from_date::date))
                   as period_to
    ),

    quarters as (
        select period_from, period_to,
               unnest(generate_series(date_trunc('quarter', period_from)::date, period_to,
                                      interval 3 month))::date as quarter_start
        from bounds
    )

    select
        quarter_start,
        greatest(quarter_start, period_from) as from_date,
        least((quarter_start + interval 3 month - interval 1 day)::date, period_to) as to_date
    from quarters;
