"""Generate the deterministic SYNTHETIC O2R tracker snapshots and Connect export for the demo."""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import xlsxwriter

D = dt.date

# Every published figure in the 2022 process evaluation refers to this date.
FINAL_AS_AT = D(2022, 7, 31)
SNAPSHOTS = [D(2021, 9, 30), D(2021, 12, 31), D(2022, 3, 31), D(2022, 6, 30), FINAL_AS_AT]
PILOT_START = D(2021, 6, 1)
ASSESSMENT_CUTOFF = D(2022, 6, 30)  # "first 60 referrals ... June 2021 - June 2022"
RECRUIT_START = D(2022, 2, 1)
COURSE_START = D(2022, 1, 4)  # pre-admission course introduced January 2022
FULL_PROGRAMME_DAYS = 84  # the 12-week residential programme
# Admitted later than this cannot have finished 12 weeks by the final as-at date.
LAST_COMPLETABLE_ADMISSION = FINAL_AS_AT - dt.timedelta(days=FULL_PROGRAMME_DAYS)
CONNECT_START, CONNECT_END = D(2019, 1, 1), FINAL_AS_AT
# Fixed so that the xlsx bytes (which embed this, and use it for zip entry times) never change.
WORKBOOK_CREATED = dt.datetime(2022, 8, 1, 9, 0, 0)

TRACKER_HEADERS = [
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
CONNECT_HEADERS = [
    "Crime Reference",
    "Nominal ID",
    "Offence Date",
    "Offence Type",
    "Offence Area",
    "Value Stolen",
]

OFFICER_1, OFFICER_2, RECRUIT_1, RECRUIT_2, FORMER = (
    "Officer 1",
    "Officer 2",
    "New recruit 1",
    "New recruit 2",
    "Former officer",
)
WAITING, ACTIVE, INACTIVE, WITHDRAWN = "Referral/Waiting", "Active", "Inactive", "Withdrawn"

OUTREACH, RETAIL, NPT, PROBATION, CUSTODY, PARTNER, WORD = (
    "O2R officer outreach",
    "Retail business",
    "Neighbourhood policing team",
    "Probation",
    "Custody",
    "Partner agency",
    "Word of mouth",
)
AREAS = [
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
RETAILERS = ["Co-op", "Boots", "Tesco", "Sainsbury's", "Superdrug", "Poundland"]
OTHER_NPTS = ["Erdington", "Erdington", "Selly Oak", "Northfield", "Aston", "Perry Barr"]
OTHER_DETAIL = {
    OUTREACH: ["", "", "Street outreach", "Bull Ring outreach"],
    PROBATION: ["", "Birmingham Central probation", "Probation - IOM team"],
    CUSTODY: ["", "Perry Barr custody", "Oldbury custody"],
    PARTNER: ["CGL", "SIFA Fireside", "Change Grow Live outreach"],
    WORD: ["", "Former O2R client"],
}
NOTE_PLACES = [
    "Bull Ring",
    "New Street station",
    "Corporation Street",
    "Sutton Parade",
    "Erdington High Street",
    "Harborne High Street",
    "Selly Oak triangle",
    "custody suite",
]

# The status each person's Figure 3 journey allows; the mix per officer reproduces Table 1.
# Category codes: in_rehab / completed / early_ongoing / early_withdrawn / early_deceased are the
# 27 admissions; not_interested / dnmc / div_partner / div_prison the other assessed;
# n_* unassessed.
OFFICER_PLAN = {
    OFFICER_1: {
        "completed": 3,
        "early_ongoing": 7,
        "n_active": 4,
        "early_withdrawn": 4,
        "early_deceased": 2,
        "not_interested": 7,
        "dnmc": 3,
        "div_partner": 1,
        "div_prison": 1,
        "n_inactive": 3,
        "n_waiting": 8,
    },
    OFFICER_2: {
        "completed": 1,
        "early_ongoing": 4,
        "n_active": 4,
        "early_withdrawn": 2,
        "early_deceased": 1,
        "not_interested": 3,
        "dnmc": 2,
        "div_partner": 1,
        "div_prison": 1,
        "n_inactive": 2,
        "n_waiting": 19,
    },
    RECRUIT_1: {
        "in_rehab": 2,
        "n_active": 4,
        "not_interested": 2,
        "dnmc": 1,
        "div_partner": 1,
        "n_inactive": 1,
        "n_waiting": 10,
    },
    RECRUIT_2: {
        "in_rehab": 1,
        "n_active": 3,
        "not_interested": 5,
        "dnmc": 4,
        "div_prison": 1,
        "n_inactive": 4,
        "n_waiting": 9,
    },
    FORMER: {"n_former": 5},
}
# Table 1 Inactive counts; the remaining inactive/withdrawn rows are Withdrawn.
INACTIVE_PER_OFFICER = {OFFICER_1: 5, OFFICER_2: 3, RECRUIT_1: 3, RECRUIT_2: 5}
# Inactive is given first to the journeys where it fits best (deceased must be Inactive).
INACTIVE_PREFERENCE = [
    "early_deceased",
    "dnmc",
    "div_partner",
    "div_prison",
    "n_inactive",
    "not_interested",
]
# Real exports lag: two withdrawn clients whose Status still says Inactive (the brief's
# "2 assessed rows whose Status is set" quirk); swapped with a dnmc row so Table 1 is unchanged.
STATUS_LAG_OFFICERS = [OFFICER_1, OFFICER_2]

ADMITTED = ("in_rehab", "completed", "early_ongoing", "early_withdrawn", "early_deceased")
ASSESSED = ADMITTED + ("not_interested", "dnmc", "div_partner", "div_prison")
EARLY_OUTCOME = {
    "early_ongoing": "Ongoing engagement",
    "early_withdrawn": "Withdrawn",
    "early_deceased": "Deceased",
}
OTHER_OUTCOME = {
    "not_interested": "Not interested",
    "dnmc": "Did not meet criteria",
    "div_partner": "Diverted - partner agency",
    "div_prison": "Diverted - prison",
}


class DemoFile(NamedTuple):
    kind: str  # "tracker" or "connect"
    path: Path
    as_at: dt.date


@dataclass
class Person:
    category: str
    officer: str
    status: str = ""
    referral: dt.date | None = None
    first_contact: dt.date | None = None
    assessment: dt.date | None = None
    pre_admission: dt.date | None = None
    rehab_assessment: dt.date | None = None
    admission: dt.date | None = None
    facility: str = ""
    exit: dt.date | None = None
    exit_reason: str = ""
    outcome: str = ""
    source: str = ""
    source_detail: str = ""
    area: str = ""
    nominal_id: str = ""
    name: str = ""
    dob: dt.date | None = None
    pnc: str = ""
    notes: str = ""


def _days(rng: random.Random, lo: int, hi: int) -> dt.timedelta:
    return dt.timedelta(days=rng.randint(lo, hi))


def _date_between(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def _referral_window(officer: str) -> tuple[dt.date, dt.date]:
    if officer in (RECRUIT_1, RECRUIT_2):
        return RECRUIT_START, FINAL_AS_AT
    if officer == FORMER:
        return PILOT_START, D(2021, 12, 31)
    return PILOT_START, FINAL_AS_AT


def _admission_window(p: Person, with_course: bool) -> tuple[dt.date, dt.date]:
    if p.category == "in_rehab":
        return LAST_COMPLETABLE_ADMISSION + dt.timedelta(days=1), FINAL_AS_AT - dt.timedelta(days=3)
    if with_course:
        hi = (
            LAST_COMPLETABLE_ADMISSION
            if p.category == "completed"
            else FINAL_AS_AT - dt.timedelta(days=12)
        )
        return D(2022, 2, 1), hi
    return D(2021, 7, 1), D(2021, 12, 31)


def _admitted_journey(rng: random.Random, p: Person, with_course: bool, stay: int | None) -> None:
    """Work backwards from an admission date so every ordering rule holds by construction."""
    lo_ref, hi_ref = _referral_window(p.officer)
    ad_lo, ad_hi = _admission_window(p, with_course)
    while True:
        ad = _date_between(rng, ad_lo, ad_hi)
        ra = ad - _days(rng, 2, 21)
        a = ra - _days(rng, 5, 35)
        fc = a - _days(rng, 3, 40)
        r = fc - _days(rng, 0, 21)
        pa = ad - _days(rng, 28, 56) if with_course else None
        if not (lo_ref <= r <= hi_ref and PILOT_START <= a <= ASSESSMENT_CUTOFF):
            continue
        if pa is not None and not (pa >= max(COURSE_START, fc)):
            continue
        ex = ad + dt.timedelta(days=stay) if stay is not None else None
        if ex is not None and ex > FINAL_AS_AT:
            continue
        break
    p.referral, p.first_contact, p.assessment, p.rehab_assessment = r, fc, a, ra
    p.admission, p.pre_admission, p.exit = ad, pa, ex


def _assessed_not_admitted(rng: random.Random, p: Person, rehab_assessed: bool) -> None:
    lo_ref, hi_ref = _referral_window(p.officer)
    while True:
        r = _date_between(rng, lo_ref, hi_ref)
        fc = r + _days(rng, 0, 30)
        a = fc + _days(rng, 3, 45)
        if a <= ASSESSMENT_CUTOFF:
            break
    p.referral, p.first_contact, p.assessment = r, fc, a
    if rehab_assessed:
        p.rehab_assessment = a + _days(rng, 7, 28)


def _recent_referral(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    # Waiting lists are dominated by recent referrals, so skew towards the end of the window.
    span = (hi - lo).days
    return lo + dt.timedelta(days=int(rng.triangular(0, span, span)))


def _unassessed_journey(rng: random.Random, p: Person) -> None:
    lo_ref, hi_ref = _referral_window(p.officer)
    if p.category == "n_waiting":
        p.referral = _recent_referral(rng, lo_ref, hi_ref)
    elif p.category == "n_former":
        p.referral = _date_between(rng, lo_ref, hi_ref)
    elif p.category == "n_active":
        # Still being readied for rehab on the course, which only began in January 2022.
        while True:
            r = _date_between(rng, max(lo_ref, D(2021, 10, 1)), D(2022, 6, 15))
            fc = r + _days(rng, 0, 30)
            pa = max(fc, COURSE_START) + _days(rng, 3, 60)
            if pa <= FINAL_AS_AT - dt.timedelta(days=7):
                break
        p.referral, p.first_contact, p.pre_admission = r, fc, pa
    else:  # n_inactive: contacted, then dropped away before any assessment
        while True:
            r = _date_between(rng, lo_ref, hi_ref)
            fc = r + _days(rng, 0, 30)
            if fc <= FINAL_AS_AT - dt.timedelta(days=30):
                break
        p.referral, p.first_contact = r, fc


def _assign_statuses(people: list[Person]) -> None:
    for officer, n_inactive in INACTIVE_PER_OFFICER.items():
        mine = [p for p in people if p.officer == officer]
        for p in mine:
            if p.category in ("in_rehab", "completed", "early_ongoing", "n_active"):
                p.status = ACTIVE
            elif p.category == "n_waiting":
                p.status = WAITING
        pool = [p for p in mine if not p.status and p.category != "early_withdrawn"]
        pool.sort(key=lambda p: INACTIVE_PREFERENCE.index(p.category))
        for i, p in enumerate(pool):
            p.status = INACTIVE if i < n_inactive else WITHDRAWN
        for p in mine:
            if p.category == "early_withdrawn":
                p.status = WITHDRAWN
        if officer in STATUS_LAG_OFFICERS:
            lagging = next(p for p in mine if p.category == "early_withdrawn")
            swap = next(p for p in mine if p.category == "dnmc" and p.status == INACTIVE)
            lagging.status, swap.status = INACTIVE, WITHDRAWN


def _spread(rng: random.Random, counts: dict[str, int]) -> list[str]:
    items = [k for k, n in counts.items() for _ in range(n)]
    rng.shuffle(items)
    return items


def _build_people(rng: random.Random) -> list[Person]:
    people = [
        Person(category=cat, officer=officer)
        for officer, plan in OFFICER_PLAN.items()
        for cat, n in plan.items()
        for _ in range(n)
    ]
    _assign_statuses(people)

    admitted = [p for p in people if p.category in ADMITTED]
    # Mandatory course from 2022: the 3 still in rehab, 1 completer and 4 early leavers took it.
    course_picks = {
        "in_rehab": 3,
        "completed": 1,
        "early_ongoing": 2,
        "early_withdrawn": 1,
        "early_deceased": 1,
    }
    early = [p for p in admitted if p.category in EARLY_OUTCOME]
    # Most early leavers walk out around the end of the 3-week detox; one passed six weeks.
    stays = [max(10, min(35, round(rng.triangular(10, 35, 21)))) for _ in range(17)] + [38, 40, 50]
    long_stays = stays[17:]
    short_stays = stays[:17]
    for p in admitted:
        with_course = course_picks.get(p.category, 0) > 0
        if with_course:
            course_picks[p.category] -= 1
        if p.category == "in_rehab":
            stay = None
        elif p.category == "completed":
            stay = FULL_PROGRAMME_DAYS + rng.randint(0, 10)
        elif long_stays and not with_course:
            stay = long_stays.pop()
        else:
            stay = short_stays.pop()
        _admitted_journey(rng, p, with_course, stay)

    facilities = _spread(rng, {"Seasons": 14, "Livingstone House": 12, "Changes UK": 1})
    for p, fac in zip(admitted, facilities):
        p.facility = fac
    reasons = _spread(
        rng, {"Self-discharged": 7, "Discharged - rule breach": 2, "Discharged - other": 11}
    )
    for p, reason in zip(early, reasons):
        p.exit_reason = reason
        p.outcome = EARLY_OUTCOME[p.category]
    for p in admitted:
        if p.category == "completed":
            p.exit_reason = "Completed"
    completers = [p for p in admitted if p.category == "completed"]
    for p in completers[:2]:
        p.outcome = "Ongoing engagement"

    dnmc_seen = 0
    for p in people:
        if p.category in OTHER_OUTCOME:
            rehab_assessed = p.category == "dnmc" and dnmc_seen % 2 == 0
            dnmc_seen += p.category == "dnmc"
            _assessed_not_admitted(rng, p, rehab_assessed)
            p.outcome = OTHER_OUTCOME[p.category]
        elif p.category.startswith("n_"):
            _unassessed_journey(rng, p)

    assessed = [p for p in people if p.category in ASSESSED]
    unassessed = [p for p in people if p.category not in ASSESSED]
    _assign_areas(rng, assessed, unassessed)
    _assign_sources(
        rng,
        assessed,
        {OUTREACH: 16, RETAIL: 16, NPT: 14, PROBATION: 5, CUSTODY: 4, PARTNER: 3, WORD: 2},
        ["Harborne"] * 5
        + ["Sutton Coldfield"] * 4
        + ["Erdington", "Erdington", "Selly Oak", "Northfield", "Aston"],
    )
    _assign_sources(
        rng,
        unassessed,
        {OUTREACH: 20, RETAIL: 19, NPT: 15, PROBATION: 8, CUSTODY: 6, PARTNER: 5, WORD: 3},
        None,
    )
    return people


def _assign_areas(rng: random.Random, assessed: list[Person], unassessed: list[Person]) -> None:
    # City Centre clients progress poorly: 3 of its 15 assessed reach rehab, about half elsewhere.
    others = _spread(
        rng,
        {
            "Sutton Coldfield": 11,
            "Erdington": 9,
            "Harborne": 6,
            "Selly Oak": 5,
            "Northfield": 5,
            "Aston": 4,
            "Perry Barr": 3,
            "Small Heath": 2,
        },
    )
    admitted = [p for p in assessed if p.category in ADMITTED]
    not_admitted = [p for p in assessed if p.category not in ADMITTED]
    admitted_areas = ["City Centre"] * 3 + others[:24]
    not_admitted_areas = ["City Centre"] * 12 + others[24:]
    rng.shuffle(admitted_areas)
    rng.shuffle(not_admitted_areas)
    for p, area in zip(admitted, admitted_areas):
        p.area = area
    for p, area in zip(not_admitted, not_admitted_areas):
        p.area = area
    rest = _spread(rng, dict(zip(AREAS, [20, 10, 9, 8, 7, 7, 6, 5, 4])))
    for p, area in zip(unassessed, rest):
        p.area = area


def _assign_sources(
    rng: random.Random, group: list[Person], counts: dict[str, int], npt_names: list[str] | None
) -> None:
    sources = _spread(rng, counts)
    npts = (
        list(npt_names)
        if npt_names
        else [rng.choice(["Harborne", "Sutton Coldfield"] + OTHER_NPTS) for _ in range(counts[NPT])]
    )
    rng.shuffle(npts)
    for p, src in zip(group, sources):
        p.source = src
        if src == NPT:
            p.source_detail = npts.pop()
        elif src == RETAIL:
            p.source_detail = rng.choice(RETAILERS)
        else:
            p.source_detail = rng.choice(OTHER_DETAIL[src])


def _age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _identify(rng: random.Random, people: list[Person]) -> list[Person]:
    people.sort(key=lambda p: (p.referral, p.officer, p.category))
    # 110 of 136 (81%) aged 30-49 at referral; the rest split between their 20s and 50s.
    ages = (
        [rng.randint(30, 49) for _ in range(110)]
        + [rng.randint(22, 29) for _ in range(13)]
        + [rng.randint(50, 58) for _ in range(13)]
    )
    rng.shuffle(ages)
    used_pnc: set[str] = set()
    for i, (p, age) in enumerate(zip(people, ages), start=1):
        p.nominal_id = f"SYN{i:04d}"
        p.name = f"Synthetic Person {i:03d}"
        lo = int(age * 365.25) + 5
        p.dob = p.referral - dt.timedelta(days=rng.randint(lo, lo + 355))
        assert _age_on(p.dob, p.referral) == age
        while True:
            pnc = f"99/{rng.randint(0, 999999):06d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
            if pnc not in used_pnc:
                used_pnc.add(pnc)
                break
        p.pnc = pnc
        if rng.random() < 0.6:
            p.notes = f"Synthetic note – met at {rng.choice(NOTE_PLACES)}"
    return people


_DATE_FIELDS = (
    "referral",
    "first_contact",
    "assessment",
    "pre_admission",
    "rehab_assessment",
    "admission",
    "exit",
)


def _as_at(p: Person, as_at: dt.date) -> Person | None:
    """The row as an export on `as_at` would have shown it, or None if not yet referred."""
    if p.referral > as_at:
        return None
    if as_at >= FINAL_AS_AT:
        return p
    final_dates = [getattr(p, f) for f in _DATE_FIELDS if getattr(p, f)]
    known = {
        f: (v if v and v <= as_at else None) for f, v in ((f, getattr(p, f)) for f in _DATE_FIELDS)
    }
    q = replace(p, **known)
    if q.admission is None:
        q.facility = ""
    if q.exit is None:
        q.exit_reason = ""
    if any(d > as_at for d in final_dates):
        q.outcome = ""
    if p.officer == FORMER:
        q.status = p.status
    elif q.first_contact is None:
        q.status = WAITING
    else:
        latest = max(v for v in (known[f] for f in _DATE_FIELDS) if v)
        in_rehab = q.admission is not None and q.exit is None
        q.status = ACTIVE if in_rehab or (as_at - latest).days <= 60 else p.status
    return q


def _row(p: Person) -> list:
    return [
        p.nominal_id,
        p.name,
        p.dob,
        p.pnc,
        p.referral,
        p.officer,
        p.source,
        p.source_detail,
        p.area,
        p.status,
        p.first_contact,
        p.assessment,
        p.pre_admission,
        p.rehab_assessment,
        p.admission,
        p.facility,
        p.exit,
        p.exit_reason,
        p.outcome,
        p.notes,
    ]


def _write_tracker(path: Path, as_at: dt.date, rows: list[Person]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties(
        {
            "title": "O2R tracker export (synthetic)",
            "author": "O2R demo generator",
            "created": WORKBOOK_CREATED,
        }
    )
    ws = wb.add_worksheet("Tracker")
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write(0, 0, "SYNTHETIC DEMO DATA – not real people", bold)
    ws.write(1, 0, "O2R tracker export")
    ws.write(2, 0, f"As at {as_at:%d/%m/%Y}")
    ws.write_row(4, 0, TRACKER_HEADERS, bold)
    # Real exports contain stray empty rows part-way down; the loader must skip them.
    n = len(rows)
    gaps = {n * 2 // 5, n * 3 // 4} if n >= 10 else set()
    r = 5
    for i, p in enumerate(rows):
        if i in gaps:
            r += 1
        for c, value in enumerate(_row(p)):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, value, date_fmt)
            elif value:
                ws.write_string(r, c, value)
        r += 1
    ws.set_column(0, len(TRACKER_HEADERS) - 1, 16)
    ws.set_column(19, 19, 40)
    wb.close()


# The story the synthetic Connect records tell (issue 10), as relative offending intensity.
# People are referred near a peak of their offending, so recorded offending is highest in the
# year before referral and lower afterwards for everyone, admitted or not (regression to the
# mean). It stops while in rehab, falls furthest after completing 12 weeks, and less after
# leaving early. The comparison groups (not admitted) fall only from the peak to the usual.
OUTCOME_STORY = {
    "year before referral": 1.0,
    "usual": 0.6,  # earlier than that, and after referral until any admission
    "in rehab": 0.0,
    "after completing 12 weeks": 0.05,
    "after leaving early": 0.3,
    "after leaving early, then deceased": 0.0,
}
# What the named query offending_windows gives on the demo data with its default windows
# (12 months before referral; 6 months after referral; 6 months after rehab exit), as
# (people followed up, offences in the window, the same people's offences in the 12 months
# before referral); tests/test_outcomes.py reproduces every figure. In rates a person-year,
# completers fall from 16.7 to 0.7 after exit (ratio 0.04), early leavers from 10.1 to 2.4
# (0.24), while the comparison groups fall from 11.5 to 4.8 (0.41, assessed, not admitted)
# and 9.0 to 5.3 (0.58, referred, not assessed): a fall for everyone, largest for completers.
EXPECTED_OUTCOMES = {
    ("Completed 12 weeks", "12 months before referral"): (4, 61, None),
    ("Completed 12 weeks", "6 months after referral"): (3, 10, 50),
    ("Completed 12 weeks", "During rehab"): (4, 0, 61),
    ("Completed 12 weeks", "6 months after rehab exit"): (3, 1, 50),
    ("Left rehab early", "12 months before referral"): (20, 201, None),
    ("Left rehab early", "6 months after referral"): (17, 33, 175),
    ("Left rehab early", "During rehab"): (20, 0, 201),
    ("Left rehab early", "6 months after rehab exit"): (16, 19, 162),
    ("In rehab", "12 months before referral"): (3, 37, None),
    ("In rehab", "6 months after referral"): (0, 0, 0),
    ("In rehab", "During rehab"): (3, 0, 37),
    ("Assessed, not admitted", "12 months before referral"): (33, 346, None),
    ("Assessed, not admitted", "6 months after referral"): (8, 19, 92),
    ("Referred, not assessed", "12 months before referral"): (76, 834, None),
    ("Referred, not assessed", "6 months after referral"): (16, 42, 144),
}


def _offending_intensity(p: Person, when: dt.date) -> float:
    if p.referral - dt.timedelta(days=365) <= when < p.referral:
        return OUTCOME_STORY["year before referral"]
    if p.admission is None or when < p.admission:
        return OUTCOME_STORY["usual"]
    if p.exit is None or when <= p.exit:
        return OUTCOME_STORY["in rehab"]
    if p.category == "completed":
        return OUTCOME_STORY["after completing 12 weeks"]
    if p.category == "early_deceased":
        return OUTCOME_STORY["after leaving early, then deceased"]
    return OUTCOME_STORY["after leaving early"]


def _connect_rows(rng: random.Random, people: list[Person]) -> list[list[str]]:
    types = ["Shoplifting", "Theft from person", "Burglary", "Possession of drugs", "Assault"]
    weights = [80, 7, 5, 5, 3]
    span = (CONNECT_END - CONNECT_START).days
    records: list[tuple[dt.date, str, str, str, str]] = []
    for p in people:
        n = 5 + round(55 * rng.betavariate(1.5, 2.3))
        while n:
            when = CONNECT_START + dt.timedelta(days=rng.randint(0, span))
            # Each date is kept with its relative intensity: the story told in OUTCOME_STORY.
            if rng.random() >= _offending_intensity(p, when):
                continue
            kind = rng.choices(types, weights)[0]
            area = p.area if rng.random() < 0.85 else rng.choice(AREAS)
            if kind == "Shoplifting":
                value = min(2500.0, rng.lognormvariate(3.9, 0.9))
            elif kind == "Theft from person":
                value = rng.lognormvariate(5.0, 0.8)
            elif kind == "Burglary":
                value = rng.lognormvariate(6.6, 0.9)
            else:
                value = None
            money = f"£{value:,.2f}" if value is not None else ""
            records.append((when, p.nominal_id, kind, area, money))
            n -= 1
    records.sort(key=lambda rec: (rec[0], rec[1]))
    rows, seq = [], 1000
    for when, nid, kind, area, money in records:
        seq += rng.randint(1, 5)
        rows.append([f"20SYN/{seq:06d}/{when:%y}", nid, f"{when:%d/%m/%Y}", kind, area, money])
    return rows


def generate(out_dir: Path) -> list[DemoFile]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2022)
    people = _identify(rng, _build_people(rng))
    files: list[DemoFile] = []
    for as_at in SNAPSHOTS:
        rows = [q for q in (_as_at(p, as_at) for p in people) if q is not None]
        path = out_dir / f"o2r_tracker_synthetic_as_at_{as_at:%Y-%m-%d}.xlsx"
        _write_tracker(path, as_at, rows)
        files.append(DemoFile("tracker", path, as_at))
    path = out_dir / "o2r_connect_synthetic.csv"
    # cp1252 because that is what Excel on Windows writes (the £ sign becomes byte 0xA3).
    with path.open("w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(CONNECT_HEADERS)
        writer.writerows(_connect_rows(rng, people))
    files.append(DemoFile("connect", path, FINAL_AS_AT))
    return files


if __name__ == "__main__":
    for f in generate(Path(__file__).parent / "demo"):
        print(f.kind, f.as_at, f.path.name)
