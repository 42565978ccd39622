"""Typing an upload's cells: the strict reader's staged text (`raw`) into `typed`, or the fast
path's file read straight into typed values (`typed_rows`, no text kept); and the clean rows
stored."""

from __future__ import annotations

import duckdb

from dashboard.ingest.contract import EDGE_WHITESPACE, Column, Contract
from dashboard.store.sql import install_text_functions, quote_ident, quote_literal_list

# A time of day after the date (a records system's timestamp, with or without seconds and
# their fractions, or with AM/PM) is read as that date.
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d %b %Y",
                "%d %B %Y", "%d-%b-%Y", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%d/%m/%Y %H:%M:%S.%f",
                "%d/%m/%Y %I:%M %p", "%d/%m/%Y %I:%M:%S %p"]


# Day, month and year (i = 1, 2, 3) of text written d/m/yyyy (or with . or -).
DATE_PARTS_MACRO = ("create or replace temp macro dmy(v, i) as try_cast(regexp_extract("
                    r"trim(v), '^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$', i) as integer)")
WHY_NOT_A_DATE_MACRO = r"""
create or replace temp macro why_not_a_date(v) as case
    when regexp_full_match(trim(v), '\d{5}(\.\d+)?')
        then ': it looks like an Excel date serial number (the date cell was saved as text '
             || 'or as a number)'
    when regexp_full_match(trim(v), '\d{1,2}[/.-]\d{1,2}[/.-]\d{2}')
        or regexp_full_match(trim(v), '\d{1,2}[ /.-][A-Za-z]{3,9}[ /.-]\d{2}')
        then ': its year has two digits, and the century cannot be guessed'
    when dmy(v, 3) is null then null
    when dmy(v, 3) not between 1900 and 2100
        then ': the year ' || dmy(v, 3) || ' is not between 1900 and 2100'
    when dmy(v, 2) between 1 and 12 and dmy(v, 1) between 1 and 31
         and dmy(v, 1) > day(last_day(make_date(dmy(v, 3), dmy(v, 2), 1)))
        then ': there is no ' || dmy(v, 1) || ' ' || monthname(make_date(dmy(v, 3), dmy(v, 2), 1))
             || ' in ' || dmy(v, 3)
    when dmy(v, 2) > 12 and dmy(v, 1) between 1 and 12
        then ': dates are read day first, and there is no month ' || dmy(v, 2) || '; if it is '
             || 'written month first (US order), the date is '
             || lpad(dmy(v, 2)::varchar, 2, '0') || '/' || lpad(dmy(v, 1)::varchar, 2, '0')
             || '/' || dmy(v, 3)
end
"""


AGE_BANDS_SQL = """
case
    when date_of_birth is null then null
    when age_years < 18 then 'Under 18'
    when age_years < 25 then '18-24'
    when age_years < 30 then '25-29'
    when age_years < 40 then '30-39'
    when age_years < 50 then '40-49'
    else '50 and over'
end
"""



def build_typed(con: duckdb.DuckDBPyConnection, contract: Contract, positions: dict[str, int],
                first_data_row: int) -> None:
    """Stage `typed`: for each column the raw text (raw_x) and its typed value (x).

    Only the contract's columns are read from `raw` (the others are never staged). Blank
    rows, blank in all of those columns, are left out here; source_row keeps the row number
    Excel shows.
    """
    install_typing(con, contract)
    # Each cell is trimmed once, in the inner select; blank rows are dropped after.
    read = sorted(set(positions.values()))
    cells = [f"(rowid + {int(first_data_row)})::integer as source_row", *trimmed_cells(read)]
    inner = f"select {', '.join(cells)} from raw"  # noqa: S608 (identifiers from code)
    filled = ", ".join(quote_ident(f"cell{i}") for i in read) or "null"
    # Every cell is typed in one pass, row by row (parsing a date or an amount costs less
    # than a join); only a closed vocabulary is looked up, once per distinct value.
    selects, joins = ["t.source_row"], []
    for index, col in enumerate(contract.columns):
        raw_name, name = quote_ident(f"raw_{col.name}"), quote_ident(col.name)
        if col.name not in positions:
            selects += [f"null::varchar as {raw_name}",
                        f"{typed_expression(col, 'null::varchar')} as {name}"]
            continue
        cell = f"t.{quote_ident(f'cell{positions[col.name]}')}"
        selects.append(f"{cell} as {raw_name}")
        if not (col.kind == "category" and col.vocabulary):
            selects.append(f"{typed_expression(col, cell)} as {name}")
            continue
        lookup, alias = quote_ident(f"map{index}"), quote_ident(f"m{index}")
        # The one cell, not the whole inner select: DuckDB binds every expression of a
        # subquery, and binding the others' trimming cost more than reading this column.
        con.execute(f"create or replace temp table {lookup} as "  # noqa: S608 (identifiers from code, values bound)
                    f"select value, {typed_expression(col, 'value')} as typed "
                    f"from (select distinct {trimmed_cell(positions[col.name])} as value from raw) "
                    "where value is not null")
        selects.append(f"{alias}.typed as {name}")
        joins.append(f"left join {lookup} {alias} on {alias}.value = {cell}")
    con.execute(f"create or replace temp table typed as select {', '.join(selects)} "  # noqa: S608 (identifiers from code, values bound)
                f"from ({inner}) t {' '.join(joins)} "
                f"where coalesce({filled}) is not null")
    con.execute("drop table raw")


def install_typing(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """The macros typing uses (uk_date, trimmed, and the text rules) and the `vocab` table."""
    install_text_functions(con)
    formats = quote_literal_list(DATE_FORMATS)
    # A plain expression, not a subquery: DuckDB would turn a subquery into a join per row.
    con.execute("create or replace temp macro uk_date(v) as "
                f"case when year(try_strptime(v, {formats})) between 1900 and 2100 "
                f"then try_strptime(v, {formats})::date end")
    # Why a cell shaped like a date is not one, for the problem list (only its rows ask).
    con.execute(DATE_PARTS_MACRO)
    con.execute(WHY_NOT_A_DATE_MACRO)
    # White space at a cell's edges (spaces, the tabs and line ends a pasted or Alt+Enter cell
    # carries, and in text beyond ASCII Unicode's spaces, such as a no-break space from a web
    # page) is not part of the value: "SYN0002<tab>" is SYN0002. Below 32 only tab, line feed
    # and carriage return get this far (other controls are refused), so a first or last
    # character at or below 32 is white space. Most cells need no trimming, and skipping trim
    # for them halves the cost of reading every cell.
    edge_whitespace = " || ".join(f"chr({ord(c)})" for c in EDGE_WHITESPACE)
    con.execute("create or replace temp macro trimmed(v) as case when strlen(v) <> length(v) "
                r"then regexp_replace(v, '^[\s\pZ]+|[\s\pZ]+$', '', 'g') "
                "when ascii(v) <= 32 or ascii(right(v, 1)) <= 32 "
                f"then trim(v, {edge_whitespace}) else v end")
    vocab = [(col.name, key, label) for col in contract.columns if col.vocabulary
             for key, label in contract.value_lookup(col).items()]
    con.execute("create or replace temp table vocab (field varchar, key varchar, label varchar)")
    if vocab:  # in one statement: a row at a time (executemany) cost 0.006 CPU-s
        fields, keys, labels = map(list, zip(*vocab, strict=True))
        con.execute("insert into vocab select unnest($fields), unnest($keys), unnest($labels)",
                    {"fields": fields, "keys": keys, "labels": labels})


def trimmed_cell(i: int, trim: bool = True) -> str:
    """Column c{i}: trimmed (unless `trim` is False: none needs it), and null where empty."""
    return f"nullif({'trimmed' if trim else ''}({quote_ident(f'c{i}')}), '')"


def trimmed_cells(read: list[int], trim: bool = True) -> list[str]:
    """Columns c{i} as cells cell{i}, each a trimmed_cell."""
    return [f"{trimmed_cell(i, trim)} as {quote_ident(f'cell{i}')}" for i in read]


def stage_typed_only(con: duckdb.DuckDBPyConnection, contract: Contract,
                     positions: dict[str, int], cells: str, params: dict, rules: list[str],
                     first_data_row: int, trim: bool = True) -> None:
    """Stage `typed_rows` straight from `cells` (SQL for the file's data rows as columns c{i},
    bound by `params`), keeping no cell's text: for each data row, in file order, blank ones
    included (`blank`), each column's typed value and `bad`, true where any of `rules` holds
    (conditions on a row's text raw_x and typed value x, as rules.checks_for words them).
    View `typed` is its rows that are not blank, numbered (source_row) as Excel shows them.
    `trim` False: no cell starts or ends with white space (fast_csv.Scan), none is trimmed.

    For the fast path, which reads the file once: the text is not kept, as the rules need
    it only to word their problems, and a file with a problem is read again by the strict
    reader, which words them. Only a projection (no join), so the rows keep file order.
    """
    install_typing(con, contract)
    read = sorted(set(positions.values()))
    filled = ", ".join(quote_ident(f"cell{i}") for i in read) or "null"
    inner = f"select {', '.join(trimmed_cells(read, trim))} from {cells}"  # noqa: S608 (identifiers and table function from code, values bound)
    middle, lists = [f"coalesce({filled}) is null as blank"], {}
    for index, col in enumerate(contract.columns):
        raw_name, name = quote_ident(f"raw_{col.name}"), quote_ident(col.name)
        if col.name not in positions:
            empty = "null::varchar" if col.vocabulary else typed_expression(col, "null::varchar")
            middle += [f"null::varchar as {raw_name}", f"{empty} as {name}"]
            continue
        cell = quote_ident(f"cell{positions[col.name]}")
        middle.append(f"{cell} as {raw_name}")
        if col.kind == "category" and col.vocabulary:
            # Looked up in lists bound as parameters: a join could reorder the rows.
            lookup = contract.value_lookup(col)
            lists[f"keys{index}"], lists[f"labels{index}"] = list(lookup), list(lookup.values())
            middle.append(f"list_extract($labels{index}, list_position($keys{index}, "
                          f"norm_key({cell}))) as {name}")
        else:
            middle.append(f"{typed_expression(col, cell)} as {name}")
    bad = " or ".join(f"coalesce({rule}, false)" for rule in rules) or "false"
    typed = ", ".join(quote_ident(col.name) for col in contract.columns)
    con.execute(f"create or replace temp table typed_rows as "  # noqa: S608 (identifiers from code, values bound)
                f"select blank, {typed}, not blank and ({bad}) as bad "
                f"from (select {', '.join(middle)} from ({inner}))", {**params, **lists})
    con.execute(f"create or replace temp view typed as select (rowid + {int(first_data_row)})"  # noqa: S608 (a number from code)
                "::integer as source_row, * exclude (blank, bad) from typed_rows where not blank")


def typed_expression(col: Column, raw: str) -> str:
    if col.kind == "id":
        # One stored form, so IDs differing only in case or width are one person.
        return f"id_form({raw})"
    if col.kind == "date":
        return f"uk_date({raw})"
    if col.kind == "money":
        # Commas only as thousands separators: "12,50" must not become 1250. Plain digits
        # (the commonest form) are cast as they are, with no pound sign or comma to remove.
        return (f"case when regexp_full_match({raw}, '\\d+(\\.\\d{{1,2}})?') "
                f"then try_cast({raw} as decimal(14, 2)) "
                f"when regexp_full_match({raw}, '£?\\s*(\\d{{1,3}}(,\\d{{3}})+|\\d+)"
                f"(\\.\\d{{1,2}})?') then try_cast(regexp_replace({raw}, '[£,\\s]', '', 'g')"
                " as decimal(14, 2)) end")  # too many digits: not an amount, not an error
    if col.kind == "category" and col.vocabulary:
        field_literal = "'" + col.name + "'"
        return (f"(select label from vocab where field = {field_literal} "  # noqa: S608 (identifiers from code, values bound)
                f"and key = norm_key({raw}))")
    if col.kind == "category":
        # A cell of punctuation only ("-", "?") names nothing: null here, refused by a check.
        # Runs of white space become one space; a cell with none (most) is kept as it is.
        # (RE2's \\s is tab, line feed, form feed, carriage return and space.)
        spaced = " or ".join(f"contains({raw}, {text})" for text in
                             ("'  '", "chr(9)", "chr(10)", "chr(12)", "chr(13)"))
        return (f"case when not names_nothing({raw}) then case when {spaced} "
                f"then regexp_replace({raw}, '\\s+', ' ', 'g') else {raw} end end")
    return raw


def clean_select(contract: Contract) -> str:
    stored = [c.name for c in contract.columns if c.stored]
    if contract.kind == "tracker":
        return f"""
            select source_row, {', '.join(stored)}, {AGE_BANDS_SQL} as age_band
            from (select *, date_part('year', age(referral_date, date_of_birth)) as age_years
                  from typed)
        """  # noqa: S608 - contract column names
    return f"select source_row, {', '.join(stored)} from typed"  # noqa: S608
