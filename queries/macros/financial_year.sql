-- The UK financial year runs from 1 April to 31 March; its quarters are Q1 April-June, Q2
-- July-September, Q3 October-December and Q4 January-March. dashboard/periods.py computes the
-- same with pandas' Period (freq 'Q-MAR'); tests/test_periods.py holds the two together.

-- fy_start_year(day): the calendar year of the 1 April that starts the day's financial year.
create or replace macro fy_start_year(p_day) as year(p_day) - (month(p_day) < 4)::int;

-- fy_quarter(day): the day's quarter of its financial year, 1 to 4.
create or replace macro fy_quarter(p_day) as (month(p_day) + 8) % 12 // 3 + 1;

-- fy_label(start_year): the financial year starting in that year, as '2022/23'.
create or replace macro fy_label(p_start_year) as
    p_start_year::varchar || '/' || lpad(((p_start_year + 1) % 100)::varchar, 2, '0');

-- fy_quarter_label(day): the day's financial quarter, as '2022/23 Q1'.
create or replace macro fy_quarter_label(p_day) as
    fy_label(fy_start_year(p_day)) || ' Q' || fy_quarter(p_day)::varchar;
