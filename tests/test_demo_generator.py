"""Tests that the synthetic demo data reproduces the published O2R figures and is deterministic."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections import Counter
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from generate_demo import generate

D = dt.date
FINAL = D(2022, 7, 31)
HEADERS = [
    "Nominal ID",
    "Name",
    "Date of Birth",
    "PNC ID",
    "Referral Date",
    "Officer",
    "Referral Source",
    "Referral Source Detail",
    "Offending Area",
    "Status",
    "First Contact Date",
    "Assessment Date",
    "Pre-admission Start Date",
    "Rehab Assessment Date",
    "Rehab Admission Date",
    "Rehab Facility",
    "Rehab Exit Date",
    "Rehab Exit Reason",
    "Outcome",
    "Notes",
]
DATE_COLS = [h for h in HEADERS if h.endswith("Date") or h == "Date of Birth"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("demo"))


def read_tracker(path: Path) -> tuple[list[list], list[dict]]:
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    assert sheet.name == "Tracker"
    raw = sheet.to_python(skip_empty_area=False)
    rows = [dict(zip(HEADERS, r)) for r in raw[5:] if any(v != "" for v in r)]
    for row in rows:
        for col in DATE_COLS:
            # calamine gives date cells back as date/datetime objects, empty cells as "".
            if isinstance(row[col], dt.datetime):
                row[col] = row[col].date()
    return raw, rows


def final_rows(files) -> list[dict]:
    return read_tracker(files[-2].path)[1]


def date_rule_violations(rows: list[dict], as_at: dt.date) -> list[str]:
    bad = []
    for r in rows:
        nid = r["Nominal ID"]
        for col in DATE_COLS:
            v = r[col]
            if v != "" and (not isinstance(v, dt.date) or v > as_at):
                bad.append(f"{nid} {col}={v!r}")
        chains = [
            ("Referral Date", "First Contact Date", "Assessment Date"),
            ("Referral Date", "Pre-admission Start Date"),
            ("Referral Date", "Rehab Assessment Date"),
            ("Assessment Date", "Rehab Assessment Date", "Rehab Admission Date", "Rehab Exit Date"),
        ]
        for chain in chains:
            present = [r[c] for c in chain if r[c] != ""]
            if present != sorted(present):
                bad.append(f"{nid} order {chain}")
        if r["Rehab Admission Date"] != "" and not r["Rehab Facility"]:
            bad.append(f"{nid} admission without facility")
        if r["Rehab Exit Date"] != "" and not r["Rehab Exit Reason"]:
            bad.append(f"{nid} exit without reason")
        if r["Rehab Facility"] and r["Rehab Admission Date"] == "":
            bad.append(f"{nid} facility without admission")
        if r["Rehab Exit Reason"] and r["Rehab Exit Date"] == "":
            bad.append(f"{nid} exit reason without exit")
        if r["Rehab Exit Date"] != "" and r["Rehab Admission Date"] == "":
            bad.append(f"{nid} exit without admission")
        if r["Assessment Date"] != "" and r["First Contact Date"] == "":
            bad.append(f"{nid} assessed without first contact")
    return bad


def test_file_list(files):
    assert [(f.kind, f.path.name, f.as_at) for f in files] == [
        ("tracker", "o2r_tracker_synthetic_as_at_2021-09-30.xlsx", D(2021, 9, 30)),
        ("tracker", "o2r_tracker_synthetic_as_at_2021-12-31.xlsx", D(2021, 12, 31)),
        ("tracker", "o2r_tracker_synthetic_as_at_2022-03-31.xlsx", D(2022, 3, 31)),
        ("tracker", "o2r_tracker_synthetic_as_at_2022-06-30.xlsx", D(2022, 6, 30)),
        ("tracker", "o2r_tracker_synthetic_as_at_2022-07-31.xlsx", D(2022, 7, 31)),
        ("connect", "o2r_connect_synthetic.csv", D(2022, 7, 31)),
    ]


def test_layout_of_every_snapshot(files):
    layout = []
    for f in files[:-1]:
        raw, rows = read_tracker(f.path)
        blank_data_rows = sum(1 for r in raw[5:] if all(v == "" for v in r))
        layout.append(
            (
                raw[0][0],
                raw[1][0],
                raw[2][0],
                all(v == "" for v in raw[3]),
                raw[4] == HEADERS,
                len(rows),
                blank_data_rows,
            )
        )
    assert layout == [
        (
            "SYNTHETIC DEMO DATA – not real people",
            "O2R tracker export",
            "As at 30/09/2021",
            True,
            True,
            25,
            2,
        ),
        (
            "SYNTHETIC DEMO DATA – not real people",
            "O2R tracker export",
            "As at 31/12/2021",
            True,
            True,
            40,
            2,
        ),
        (
            "SYNTHETIC DEMO DATA – not real people",
            "O2R tracker export",
            "As at 31/03/2022",
            True,
            True,
            81,
            2,
        ),
        (
            "SYNTHETIC DEMO DATA – not real people",
            "O2R tracker export",
            "As at 30/06/2022",
            True,
            True,
            121,
            2,
        ),
        (
            "SYNTHETIC DEMO DATA – not real people",
            "O2R tracker export",
            "As at 31/07/2022",
            True,
            True,
            136,
            2,
        ),
    ]


def test_date_rules_hold_in_every_snapshot(files):
    assert {
        f.as_at: date_rule_violations(read_tracker(f.path)[1], f.as_at) for f in files[:-1]
    } == {f.as_at: [] for f in files[:-1]}


def test_earlier_snapshots_are_subsets_of_final(files):
    final_ids = [r["Nominal ID"] for r in final_rows(files)]
    problems = []
    for f in files[:-2]:
        rows = read_tracker(f.path)[1]
        ids = [r["Nominal ID"] for r in rows]
        if ids != final_ids[: len(ids)]:
            problems.append((f.as_at, "ids"))
        if any(r["Referral Date"] > f.as_at for r in rows):
            problems.append((f.as_at, "referral"))
        if any(r["Status"] == "Referral/Waiting" and r["First Contact Date"] != "" for r in rows):
            problems.append((f.as_at, "waiting contacted"))
    assert problems == []


def test_table_1_and_vocabularies(files):
    rows = final_rows(files)
    counts = {
        "rows": len(rows),
        "unique ids": len({r["Nominal ID"] for r in rows}),
        "officer x status": Counter((r["Officer"], r["Status"]) for r in rows),
        "status": Counter(r["Status"] for r in rows),
        "contacted": sum(r["First Contact Date"] != "" for r in rows),
        "referral range": (
            min(r["Referral Date"] for r in rows),
            max(r["Referral Date"] for r in rows),
        ),
        "earliest referral by officer": {
            o: min(r["Referral Date"] for r in rows if r["Officer"] == o)
            for o in sorted({r["Officer"] for r in rows})
        },
        "latest former officer referral": max(
            r["Referral Date"] for r in rows if r["Officer"] == "Former officer"
        ),
        "age bands": Counter(
            "30-49"
            if 30 <= a <= 49
            else "20-29"
            if 20 <= a <= 29
            else "50-59"
            if 50 <= a <= 59
            else "other"
            for a in (
                r["Referral Date"].year
                - r["Date of Birth"].year
                - (
                    (r["Referral Date"].month, r["Referral Date"].day)
                    < (r["Date of Birth"].month, r["Date of Birth"].day)
                )
                for r in rows
            )
        ),
        "sources": Counter(r["Referral Source"] for r in rows),
        "facility vocab": sorted({r["Rehab Facility"] for r in rows}),
        "exit vocab": sorted({r["Rehab Exit Reason"] for r in rows}),
        "outcome vocab": sorted({r["Outcome"] for r in rows}),
        "area vocab": sorted({r["Offending Area"] for r in rows}),
        "id format": all(r["Nominal ID"] == f"SYN{i:04d}" for i, r in enumerate(rows, 1)),
    }
    assert counts == {
        "rows": 136,
        "unique ids": 136,
        "officer x status": Counter(
            {
                ("Officer 1", "Referral/Waiting"): 8,
                ("Officer 1", "Active"): 14,
                ("Officer 1", "Inactive"): 5,
                ("Officer 1", "Withdrawn"): 16,
                ("Officer 2", "Referral/Waiting"): 19,
                ("Officer 2", "Active"): 9,
                ("Officer 2", "Inactive"): 3,
                ("Officer 2", "Withdrawn"): 9,
                ("New recruit 1", "Referral/Waiting"): 10,
                ("New recruit 1", "Active"): 6,
                ("New recruit 1", "Inactive"): 3,
                ("New recruit 1", "Withdrawn"): 2,
                ("New recruit 2", "Referral/Waiting"): 9,
                ("New recruit 2", "Active"): 4,
                ("New recruit 2", "Inactive"): 5,
                ("New recruit 2", "Withdrawn"): 9,
                ("Former officer", ""): 5,
            }
        ),
        "status": Counter(
            {"Referral/Waiting": 46, "Active": 33, "Inactive": 16, "Withdrawn": 36, "": 5}
        ),
        "contacted": 85,
        "referral range": (D(2021, 6, 11), D(2022, 7, 25)),
        "earliest referral by officer": {
            "Former officer": D(2021, 6, 13),
            "New recruit 1": D(2022, 2, 3),
            "New recruit 2": D(2022, 2, 6),
            "Officer 1": D(2021, 6, 11),
            "Officer 2": D(2021, 6, 12),
        },
        "latest former officer referral": D(2021, 12, 16),
        "age bands": Counter({"30-49": 110, "20-29": 13, "50-59": 13}),
        "sources": Counter(
            {
                "O2R officer outreach": 36,
                "Retail business": 35,
                "Neighbourhood policing team": 29,
                "Probation": 13,
                "Custody": 10,
                "Partner agency": 8,
                "Word of mouth": 5,
            }
        ),
        "facility vocab": ["", "Changes UK", "Livingstone House", "Seasons"],
        "exit vocab": [
            "",
            "Completed",
            "Discharged - other",
            "Discharged - rule breach",
            "Self-discharged",
        ],
        "outcome vocab": [
            "",
            "Deceased",
            "Did not meet criteria",
            "Diverted - partner agency",
            "Diverted - prison",
            "Not interested",
            "Ongoing engagement",
            "Withdrawn",
        ],
        "area vocab": sorted(
            [
                "City Centre",
                "Sutton Coldfield",
                "Erdington",
                "Harborne",
                "Selly Oak",
                "Northfield",
                "Aston",
                "Perry Barr",
                "Small Heath",
            ]
        ),
        "id format": True,
    }


def figure_3_class(r: dict) -> str:
    if r["Rehab Admission Date"] != "":
        return "residential rehab"
    if r["Outcome"] in ("Not interested", "Did not meet criteria"):
        return r["Outcome"]
    if r["Outcome"].startswith("Diverted"):
        return r["Outcome"]
    return "unclassified"


def test_figure_3_journey(files):
    rows = final_rows(files)
    assessed = [r for r in rows if r["Assessment Date"] != ""]
    admitted = [r for r in assessed if r["Rehab Admission Date"] != ""]
    exited = [r for r in admitted if r["Rehab Exit Date"] != ""]
    early = [r for r in exited if r["Rehab Exit Reason"] != "Completed"]
    days = {id(r): (r["Rehab Exit Date"] - r["Rehab Admission Date"]).days for r in exited}
    counts = {
        "assessed": len(assessed),
        "assessment range": (
            min(r["Assessment Date"] for r in assessed),
            max(r["Assessment Date"] for r in assessed),
        ),
        "class": Counter(figure_3_class(r) for r in assessed),
        "admitted anywhere": sum(r["Rehab Admission Date"] != "" for r in rows),
        "facility": Counter(r["Rehab Facility"] for r in admitted),
        "still in rehab": sum(r["Rehab Exit Date"] == "" for r in admitted),
        "still in rehab admitted after 2022-05-08": sum(
            r["Rehab Exit Date"] == "" and r["Rehab Admission Date"] > D(2022, 5, 8)
            for r in admitted
        ),
        "completed (>=84 days)": sum(
            r["Rehab Exit Reason"] == "Completed" and days[id(r)] >= 84 for r in exited
        ),
        "early exit reasons": Counter(r["Rehab Exit Reason"] for r in early),
        "early exit outcomes": Counter(r["Outcome"] for r in early),
        "early stays 10-35 days": sum(10 <= days[id(r)] <= 35 for r in early),
        "early stays under 84": all(days[id(r)] < 84 for r in early),
        "stayed six weeks or more": sum(d >= 42 for d in days.values()),
        "non-early admitted outcomes": Counter(r["Outcome"] for r in admitted if r not in early),
        "status by outcome": Counter(
            (figure_3_class(r) if r["Outcome"] == "" else r["Outcome"], r["Status"])
            for r in assessed
        ),
        "sources": Counter(r["Referral Source"] for r in assessed),
        "npt detail": Counter(
            r["Referral Source Detail"]
            for r in assessed
            if r["Referral Source"] == "Neighbourhood policing team"
        ),
        "top areas": Counter(r["Offending Area"] for r in assessed).most_common(4),
        "city centre assessed/admitted": (
            sum(r["Offending Area"] == "City Centre" for r in assessed),
            sum(r["Offending Area"] == "City Centre" for r in admitted),
        ),
        "elsewhere assessed/admitted": (
            sum(r["Offending Area"] != "City Centre" for r in assessed),
            sum(r["Offending Area"] != "City Centre" for r in admitted),
        ),
    }
    assert counts == {
        "assessed": 60,
        "assessment range": (D(2021, 7, 9), D(2022, 6, 30)),
        "class": Counter(
            {
                "residential rehab": 27,
                "Not interested": 17,
                "Did not meet criteria": 10,
                "Diverted - partner agency": 3,
                "Diverted - prison": 3,
            }
        ),
        "admitted anywhere": 27,
        "facility": Counter({"Seasons": 14, "Livingstone House": 12, "Changes UK": 1}),
        "still in rehab": 3,
        "still in rehab admitted after 2022-05-08": 3,
        "completed (>=84 days)": 4,
        "early exit reasons": Counter(
            {"Self-discharged": 7, "Discharged - rule breach": 2, "Discharged - other": 11}
        ),
        "early exit outcomes": Counter({"Withdrawn": 6, "Deceased": 3, "Ongoing engagement": 11}),
        "early stays 10-35 days": 17,
        "early stays under 84": True,
        "stayed six weeks or more": 5,
        "non-early admitted outcomes": Counter({"": 5, "Ongoing engagement": 2}),
        # Two withdrawn clients still show Inactive: the deliberate status-lag quirk.
        "status by outcome": Counter(
            {
                ("residential rehab", "Active"): 5,
                ("Ongoing engagement", "Active"): 13,
                ("Withdrawn", "Withdrawn"): 4,
                ("Withdrawn", "Inactive"): 2,
                ("Deceased", "Inactive"): 3,
                ("Not interested", "Withdrawn"): 17,
                ("Did not meet criteria", "Inactive"): 8,
                ("Did not meet criteria", "Withdrawn"): 2,
                ("Diverted - partner agency", "Inactive"): 1,
                ("Diverted - partner agency", "Withdrawn"): 2,
                ("Diverted - prison", "Inactive"): 1,
                ("Diverted - prison", "Withdrawn"): 2,
            }
        ),
        "sources": Counter(
            {
                "O2R officer outreach": 16,
                "Retail business": 16,
                "Neighbourhood policing team": 14,
                "Probation": 5,
                "Custody": 4,
                "Partner agency": 3,
                "Word of mouth": 2,
            }
        ),
        "npt detail": Counter(
            {
                "Harborne": 5,
                "Sutton Coldfield": 4,
                "Erdington": 2,
                "Selly Oak": 1,
                "Northfield": 1,
                "Aston": 1,
            }
        ),
        "top areas": [
            ("City Centre", 15),
            ("Sutton Coldfield", 11),
            ("Erdington", 9),
            ("Harborne", 6),
        ],
        "city centre assessed/admitted": (15, 3),
        "elsewhere assessed/admitted": (45, 24),
    }


def test_pre_admission_course(files):
    rows = final_rows(files)
    course = [r for r in rows if r["Pre-admission Start Date"] != ""]
    then_admitted = [r for r in course if r["Rehab Admission Date"] != ""]
    counts = {
        "attendees": len(course),
        "earliest start >= 2022-01-01": min(r["Pre-admission Start Date"] for r in course)
        >= D(2022, 1, 1),
        "then admitted": len(then_admitted),
        "admitted after course start": all(
            r["Rehab Admission Date"] > r["Pre-admission Start Date"] for r in then_admitted
        ),
        "admission months": sorted(
            {r["Rehab Admission Date"].strftime("%Y-%m") for r in then_admitted}
        ),
        "others": Counter(
            (r["Status"], r["Assessment Date"] == "") for r in course if r not in then_admitted
        ),
        "admitted before 2022 with course": sum(
            r["Rehab Admission Date"] != ""
            and r["Rehab Admission Date"] < D(2022, 1, 1)
            and r["Pre-admission Start Date"] != ""
            for r in rows
        ),
        "unassessed with admission": sum(
            r["Assessment Date"] == "" and r["Rehab Admission Date"] != "" for r in rows
        ),
        "unassessed active without contact": sum(
            r["Assessment Date"] == "" and r["Status"] == "Active" and r["First Contact Date"] == ""
            for r in rows
        ),
    }
    assert counts == {
        "attendees": 23,
        "earliest start >= 2022-01-01": True,
        "then admitted": 8,
        "admitted after course start": True,
        "admission months": ["2022-02", "2022-04", "2022-05", "2022-06", "2022-07"],
        "others": Counter({("Active", True): 15}),
        "admitted before 2022 with course": 0,
        "unassessed with admission": 0,
        "unassessed active without contact": 0,
    }


def test_connect_export(files):
    path = files[-1].path
    data = path.read_bytes()
    text = data.decode("cp1252")
    records = list(csv.reader(io.StringIO(text, newline="")))
    header, body = records[0], records[1:]
    tracker = {r["Nominal ID"]: r for r in final_rows(files)}
    per_person = Counter(r[1] for r in body)
    dates = [dt.datetime.strptime(r[2], "%d/%m/%Y").date() for r in body]
    values = [r[5] for r in body if r[5]]
    counts = {
        "header": header,
        "crlf only": data.count(b"\r\n") == data.count(b"\n") == len(records),
        "pound is 0xA3": b"\xa3" in data and "£".encode() not in data,
        "rows": len(body),
        "unique refs": len({r[0] for r in body}),
        "ref format": all(r[0].startswith("20SYN/") and r[0][-2:] == r[2][-2:] for r in body),
        "people": (len(per_person), set(per_person) <= set(tracker)),
        "per person range": (min(per_person.values()), max(per_person.values())),
        "date range": (min(dates), max(dates)),
        "types": Counter(r[3] for r in body),
        "value blank iff non-acquisitive": all(
            (r[5] == "") == (r[3] in ("Possession of drugs", "Assault")) for r in body
        ),
        "value format": all(v.startswith("£") and v[-3] == "." for v in values),
        "values with thousands": sum("," in v for v in values),
        "in own area": sum(r[4] == tracker[r[1]]["Offending Area"] for r in body),
    }
    assert counts == {
        "header": [
            "Crime Reference",
            "Nominal ID",
            "Offence Date",
            "Offence Type",
            "Offence Area",
            "Value Stolen",
        ],
        "crlf only": True,
        "pound is 0xA3": True,
        "rows": 3685,
        "unique refs": 3685,
        "ref format": True,
        "people": (136, True),
        "per person range": (6, 54),
        "date range": (D(2019, 1, 1), D(2022, 7, 31)),
        "types": Counter(
            {
                "Shoplifting": 2961,
                "Theft from person": 262,
                "Possession of drugs": 181,
                "Burglary": 166,
                "Assault": 115,
            }
        ),
        "value blank iff non-acquisitive": True,
        "value format": True,
        "values with thousands": 70,
        "in own area": 3195,
    }


def test_deterministic(tmp_path):
    first = {f.path.name: f.path.read_bytes() for f in generate(tmp_path / "a")}
    second = {f.path.name: f.path.read_bytes() for f in generate(tmp_path / "b")}
    assert first == second


def test_committed_demo_files_are_what_the_generator_writes(tmp_path):
    for demo in generate(tmp_path):
        committed = Path(__file__).resolve().parent.parent / "data" / "demo" / demo.path.name
        assert demo.path.read_bytes() == committed.read_bytes(), demo.path.name
