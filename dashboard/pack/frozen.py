"""Frozen packs: a signed-off pack stored exactly as printed, issued again with the same
figures (circulated ones in today's circulated form: circulated_now), with where a re-run on
current data would now differ."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import numbers
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dashboard.pack import disclosure as rules
from dashboard.pack.build import (
    CIRCULATED_QUALITY_NOTE,
    ROWS_BY_NAME,
    QuarterMemo,
    build_pack,
)
from dashboard.pack.disclosure import CONTROLLED
from dashboard.pack.model import Figure, Pack, Table
from dashboard.pack.quarters import FINANCIAL, Quarter, parse_quarter
from dashboard.security import access
from dashboard.store import database

PACK_FORMAT = 1  # bumped if the stored JSON ever changes shape


def _encode(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, str):
        return value
    raise TypeError(f"Cannot store {value!r} ({type(value).__name__}) in a pack")


def _decode(value: object) -> object:
    if isinstance(value, dict):
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        return dt.date.fromisoformat(value["date"])
    return value


def frame_to_json(frame: pd.DataFrame) -> dict:
    return {"columns": [str(c) for c in frame.columns],
            "dtypes": [str(t) for t in frame.dtypes],
            "rows": [[_encode(v) for v in row] for row in frame.itertuples(index=False)]}


def frame_from_json(stored: dict) -> pd.DataFrame:
    columns = {}
    for index, (name, dtype) in enumerate(zip(stored["columns"], stored["dtypes"], strict=True)):
        values = pd.Series([_decode(row[index]) for row in stored["rows"]], dtype=object)
        columns[name] = values if dtype == "object" else values.astype(dtype)
    return pd.DataFrame(columns, columns=stored["columns"])


def pack_to_json(pack: Pack) -> str:
    """The pack as JSON text: everything needed to print it again exactly as it is."""
    return json.dumps({
        "format": PACK_FORMAT,
        "quarter": pack.quarter, "start": _encode(pack.start), "end": _encode(pack.end),
        "scheme": pack.scheme, "snapshot_id": pack.snapshot_id,
        "snapshot_as_at": _encode(pack.snapshot_as_at),
        "connect_upload_id": pack.connect_upload_id,
        "generated_at": _encode(pack.generated_at), "disclosure": pack.disclosure,
        "threshold": pack.threshold,
        "figures": [{k: _encode(v) for k, v in dataclasses.asdict(f).items()}
                    for f in pack.figures],
        "tables": [{"name": t.name, "title": t.title, "note": t.note,
                    "frame": frame_to_json(t.frame)} for t in pack.tables],
        "trend": frame_to_json(pack.trend),
        "assumptions": pack.assumptions, "caveats": pack.caveats,
        "part_quarter_to": _encode(pack.part_quarter_to), "demo": pack.demo,
    }, ensure_ascii=False)


def pack_from_json(text: str) -> Pack:
    stored = json.loads(text)
    if stored.get("format") != PACK_FORMAT:
        raise ValueError(f"Stored pack format {stored.get('format')} is not {PACK_FORMAT}")
    return Pack(
        quarter=stored["quarter"], start=_decode(stored["start"]), end=_decode(stored["end"]),
        scheme=stored["scheme"], snapshot_id=stored["snapshot_id"],
        snapshot_as_at=_decode(stored["snapshot_as_at"]),
        connect_upload_id=stored["connect_upload_id"],
        generated_at=_decode(stored["generated_at"]), disclosure=stored["disclosure"],
        threshold=stored["threshold"],
        figures=[Figure(**f) for f in stored["figures"]],
        tables=[Table(t["name"], t["title"], t["note"], frame_from_json(t["frame"]))
                for t in stored["tables"]],
        trend=frame_from_json(stored["trend"]),
        assumptions=stored["assumptions"], caveats=stored["caveats"],
        # packs signed off before these were kept said them only among the caveats
        part_quarter_to=_decode(stored.get("part_quarter_to")),
        demo=stored.get("demo", False))


def sign_off(db, pack: Pack, who: str) -> int:
    """Store the pack exactly as it is, signed off by `who`; returns its pack id.

    A later sign-off of the same quarter, scheme and disclosure supersedes it (both kept)."""
    if not who or not who.strip():
        raise ValueError("Say who is signing the pack off")
    if pack.part_quarter_to and pack.disclosure == CONTROLLED:
        # Frozen part-quarter figures beside the whole quarter's later (the panel sees how
        # current data differs) would give away the counts of the weeks between.
        raise ValueError(f"{pack.quarter} is not over in the data (to "
                         f"{pack.part_quarter_to:%d/%m/%Y}): a pack for circulation is signed "
                         "off once the data covers the whole quarter")
    return database.store_pack(db, quarter=pack.quarter, scheme=pack.scheme,
                            disclosure=pack.disclosure, snapshot_id=pack.snapshot_id,
                            connect_upload_id=pack.connect_upload_id,
                            signed_off_by=who.strip(), pack_json=pack_to_json(pack))


def load_signed_off(db, quarter: str | Quarter, scheme: str = FINANCIAL,
                    disclosure: str = CONTROLLED) -> Pack | None:
    """The latest signed-off pack for the quarter, its figures as signed off (in today's
    circulated form: circulated_now); None if none."""
    parse_quarter(quarter, scheme)  # a quarter it cannot read is refused, database or not
    if not Path(db).exists():
        return None
    con = database.connect_read_only(Path(db))
    try:
        return signed_off(con, quarter, scheme, disclosure)
    finally:
        con.close()


def signed_off(con: duckdb.DuckDBPyConnection, quarter: str | Quarter,
               scheme: str = FINANCIAL, disclosure: str = CONTROLLED) -> Pack | None:
    """load_signed_off on a connection already open."""
    label = parse_quarter(quarter, scheme).label
    try:
        rows = con.execute(
            "select pack_id, signed_off_by, signed_off_at, pack_json from packs "
            "where quarter = $quarter and scheme = $scheme and disclosure = $disclosure "
            "order by pack_id desc limit 1",
            {"quarter": label, "scheme": scheme, "disclosure": disclosure}).fetchall()
    except duckdb.CatalogException:  # a database from before packs could be signed off
        return None
    if not rows:
        return None
    pack_id, who, when, text = rows[0]
    frozen = circulated_now(pack_from_json(text))
    frozen.pack_id, frozen.signed_off_by, frozen.signed_off_at = pack_id, who, when
    return frozen


# The count as the circulated pack printed it: a number, or a marker (<5, [c], [x]).
DATA_QUALITY_CAVEAT = re.compile(r"^Data quality: \S+ referral\(s\) with an event")


def circulated_now(frozen: Pack) -> Pack:
    """A circulated pack signed off before 01/12 as it is circulated now, its figures the same:
    rows listed by name (listed largest first, as they were, the order of withheld rows ranked
    them), and its data-quality issues without their counts (which bounded withheld figures)."""
    if frozen.disclosure != CONTROLLED:
        return frozen

    def now(table: Table) -> Table:
        frame = table.frame
        if table.name in ROWS_BY_NAME and len(frame):
            label = frame.columns[0]
            is_total = frame[label].astype(str) == "Total"
            frame = pd.concat([frame[~is_total].sort_values(label, key=lambda c: c.astype(str)),
                               frame[is_total]]).reset_index(drop=True)
        elif table.name == "Data quality" and len(frame.columns) > 1:
            return dataclasses.replace(table, note=CIRCULATED_QUALITY_NOTE,
                                       frame=frame.iloc[:, :1].copy())
        return dataclasses.replace(table, frame=frame)

    return dataclasses.replace(
        frozen, tables=[now(t) for t in frozen.tables],
        caveats=[DATA_QUALITY_CAVEAT.sub("Data quality: some referrals with an event", c)
                 for c in frozen.caveats])


def compare(frozen: Pack, fresh: Pack) -> list[str]:
    """Where a re-run on current data now differs from the signed-off pack, as sentences."""
    out = []
    if (frozen.disclosure, frozen.threshold) != (fresh.disclosure, fresh.threshold):
        out.append(f"Disclosure differs: signed off {frozen.disclosure} "
                   f"(threshold {frozen.threshold}), re-run {fresh.disclosure} "
                   f"(threshold {fresh.threshold}).")
    old = {(f.section, f.measure): f for f in frozen.figures}
    new = {(f.section, f.measure): f for f in fresh.figures}
    for key, figure in old.items():
        if key not in new:
            out.append(f"{figure.measure}: in the signed-off pack, not in a re-run.")
            continue
        now = new[key]
        for what, before, after in (("", figure.display, now.display),
                                    (" (previous quarter)", figure.previous_display,
                                     now.previous_display),
                                    (" (a year before)", figure.year_ago_display,
                                     now.year_ago_display)):
            if before != after:
                out.append(f"{figure.measure}{what}: {before} signed off, {after} on current "
                           "data.")
    out += [f"{f.measure}: new in a re-run." for k, f in new.items() if k not in old]
    old_tables = {t.name: t for t in frozen.tables}
    new_tables = {t.name: t for t in fresh.tables}
    for name in sorted(old_tables.keys() | new_tables.keys()):
        if name not in new_tables or name not in old_tables:
            out.append(f"Table {name}: {'only signed off' if name in old_tables else 'new'}.")
        elif not frames_equal(old_tables[name].frame, new_tables[name].frame):
            out.append(f"Table {name}: some cells differ on current data.")
    if not frames_equal(frozen.trend, fresh.trend):
        out.append("Trend: some quarters' figures differ on current data.")
    return out


def frames_equal(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    """Whether two tables hold the same rows, in whatever order: packs signed off before rows
    were listed by name had them largest first, and a change of order alone is no change of
    figures (to say so would rank withheld ones)."""
    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        text = frame.astype(str)
        return text.sort_values(list(text.columns)).reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(rows(left), rows(right), check_dtype=False)
    except AssertionError:
        return False
    return True


def issue(db, viewer: access.Viewer, quarter: str | Quarter, scheme: str = FINANCIAL,
          disclosure: str = CONTROLLED, threshold: int = rules.DEFAULT_THRESHOLD
          ) -> Pack:
    """The signed-off pack if there is one, with how current data would differ; else fresh."""
    con = database.connect_read_only(Path(db))
    try:
        return issue_on(con, viewer, quarter, scheme, disclosure, threshold)
    finally:
        con.close()


def issue_on(con: duckdb.DuckDBPyConnection, viewer: access.Viewer, quarter: str | Quarter,
             scheme: str = FINANCIAL, disclosure: str = CONTROLLED,
             threshold: int = rules.DEFAULT_THRESHOLD, memo: QuarterMemo | None = None
             ) -> Pack:
    """issue() on a read-only connection already open (opening one, its macros installed,
    costs about 35 ms: the page issues each pack on the connection its queries share), with
    what other packs of the same data worked out (`memo`, build.QuarterMemo)."""
    frozen = signed_off(con, quarter, scheme, disclosure)
    fresh = build_pack(con, viewer, quarter, scheme, disclosure=disclosure,
                       threshold=frozen.threshold if frozen else threshold, memo=memo)
    if frozen is None:
        return fresh
    frozen.differences = compare(frozen, fresh)
    return frozen
