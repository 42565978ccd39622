"""A Connect upload's crimes into the stored ones: a crime reference already stored takes the
upload's record unless a later export had it; stored in offence-date order."""

from __future__ import annotations

import duckdb

from dashboard.ingest.validation import LABEL_GROUPS
from dashboard.store.sql import quote_ident, spellings_table

CRIME_COLUMNS = ["crime_reference", "nominal_id", "offence_date", "offence_type", "offence_area",
                 "value_stolen"]


def merge_crimes(con: duckdb.DuckDBPyConnection, upload_id: int) -> int:
    """Store the upload's crimes; returns how many were left as stored from a later export.

    A crime reference already stored takes this upload's record unless the stored one came
    from an export taken later (a later as-at date): an old export uploaded after a newer
    one must not put back what the newer one corrected. On the same as-at date, the later
    upload wins."""
    source, kept = "incoming", 0
    if con.execute("select count(*) from uploads where kind = 'connect' and as_at_date > "
                   "(select as_at_date from uploads where upload_id = $id)",
                   {"id": upload_id}).fetchall()[0][0]:
        kept = con.execute("""
            create or replace temp table kept_later as
            select distinct c.crime_reference
            from crimes c join uploads u using (upload_id)
            where u.as_at_date > (select as_at_date from uploads where upload_id = $id)
              and c.crime_reference in (select crime_reference from incoming)
        """, {"id": upload_id}).fetchall()[0][0]
        con.execute("create or replace temp view newer_incoming as select * from incoming "
                    "where crime_reference not in (select crime_reference from kept_later)")
        source = "newer_incoming"
    con.execute(f"delete from crimes where crime_reference in "  # noqa: S608 (a view name from code)
                f"(select crime_reference from {source})")
    # In offence-date order, so a period filter skips the row groups outside it. Each labelled
    # column goes through the sort as a small number standing for its value, not as text
    # (sorting the text costs more), and becomes its display spelling after: the spellings,
    # a few per column, are bound as lists, so the sorted order is kept to the insert. The
    # values are those assign_labels found (spellings_<column>), not read again.
    inner, outer, lists, joins = [], [], {}, []
    for index, column in enumerate(CRIME_COLUMNS):
        col = quote_ident(column)
        if column not in LABEL_GROUPS:
            inner.append(f"i.{col}")
            outer.append(col)
            continue
        codes, alias, code = (quote_ident(f"codes{index}"), quote_ident(f"c{index}"),
                              quote_ident(f"code{index}"))
        con.execute(f"""
            create or replace temp table {codes} as
            select v.value, (row_number() over (order by v.value))::integer as code, l.label
            from (select spelling as value from {spellings_table(column)}) v
            left join labels l on l.label_group = $group and l.key = norm_key(v.value)
        """, {"group": LABEL_GROUPS[column]})  # noqa: S608 - identifiers via quote_ident
        lists[f"labels{index}"] = [label for (label,) in con.execute(
            f"select label from {codes} order by code").fetchall()]  # noqa: S608 - as above
        joins.append(f"left join {codes} {alias} on {alias}.value = i.{col}")
        inner.append(f"{alias}.code as {code}")
        outer.append(f"list_extract($labels{index}, {code})")
    con.execute(f"""
        insert into crimes
        select {', '.join(outer)}, $upload_id
        from (select {', '.join(inner)} from {source} i {' '.join(joins)}
              order by i."offence_date")
    """, {"upload_id": upload_id, **lists})  # noqa: S608 - identifiers via quote_ident
    for index, column in enumerate(CRIME_COLUMNS):
        if column in LABEL_GROUPS:
            con.execute(f"drop table {quote_ident(f'codes{index}')}")
    if source != "incoming":
        con.execute("drop view newer_incoming")
        con.execute("drop table kept_later")
    return kept
