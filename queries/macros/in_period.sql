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
