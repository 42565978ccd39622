"""One quarter's publication: every count its pack shows (headline figures, the count tables,
the parts of each rate, the outcome tables) with the sums a reader can rely on between them,
protected once (disclosure.py), so every pack that shows the quarter shows it alike."""

from __future__ import annotations

import functools
from collections.abc import Hashable
from dataclasses import dataclass, field
from itertools import islice

import pandas as pd

from dashboard.analysis import caseload as caseload_table
from dashboard.analysis.measures import MEASURES, RATE_OF_COUNTS, Rows
from dashboard.pack import disclosure as rules
from dashboard.pack.counts import Counts, counts_table
from dashboard.pack.disclosure import NOT_AVAILABLE, TOTAL, Side
from dashboard.pack.earlier_groups import EarlierGroups
from dashboard.pack.gathering import QuarterData

AREA_COLUMNS = {"referrals": "Referrals received", "assessed": "Police assessments",
                "entered_rehab": "Rehab admissions"}
AREA_TABLE, EARLY_TABLE, DIVERSION_TABLE, CASELOAD_TABLE, QUALITY_TABLE = (
    "Flows by area", "Early discharges", "Diversions", "Caseload", "Data quality")


def figure_key(measure: str) -> tuple[str, str]:
    return ("figure", measure)


def rate_keys(rate: str) -> tuple[tuple, tuple, tuple]:
    """(reached, not reached, base) keys of a rate's counts."""
    return ("rate", rate, "reached"), ("rate", rate, "not reached"), ("rate", rate, "base")


def _with_totals_last(labels: list, totals: list[bool]) -> tuple[list, list[int]]:
    """Row labels with the total rows (labelled Total) moved last, and the rows' positions."""
    order = [i for i, total in enumerate(totals) if not total]
    order += [i for i, total in enumerate(totals) if total]
    return [TOTAL if totals[i] else caseload_table.not_a_total(labels[i]) for i in order], order


def area_counts(data: QuarterData) -> Counts:
    rows = data.area_flows
    labels, order = _with_totals_last(rows["offending_area"], rows["is_total"])
    return counts_table(labels, {shown: [int(rows[column][i]) for i in order]
                                 for column, shown in AREA_COLUMNS.items()})


def one_way_counts(rows: Rows, label_column: str, column: str) -> Counts:
    """A list of counts with its total row (is_total) last, as the query counted it."""
    totals = rows["is_total"]
    labels, order = _with_totals_last(rows[label_column], totals)
    counts = rows["referrals"]
    values = [int(counts[i]) for i in order]
    if not any(totals):
        labels, values = [*labels, TOTAL], [*values, 0]
    return counts_table(labels, {column: values})


def caseload_counts(caseload: pd.DataFrame) -> Counts:
    """Table 1 at quarter end, from quarter_caseload's rows (its own totals left aside), with
    officers by name, not biggest caseload first as on the dashboard: the order of officers
    whose counts are withheld would rank them."""
    make = functools.partial(caseload_frame, caseload)
    found = caseload_table.table_one_cells(caseload, keep=[
        not (all_officers or all_statuses) for all_officers, all_statuses in zip(
            caseload["is_all_officers"].tolist(), caseload["is_all_statuses"].tolist(),
            strict=True)])
    if found is None:
        return Counts([TOTAL], [TOTAL], [[0]], make)
    officers, statuses, table = found
    order = sorted(range(len(officers)), key=officers.__getitem__)
    return Counts([*(officers[i] for i in order), TOTAL], [*statuses, TOTAL],
                  [*(table[i] for i in order), table[-1]], make)


def caseload_frame(caseload: pd.DataFrame) -> pd.DataFrame:
    """caseload_counts' table as the pack prints it."""
    cells = caseload[~caseload["is_all_officers"] & ~caseload["is_all_statuses"]]
    if cells.empty:
        return pd.DataFrame({TOTAL: [0]}, index=[TOTAL])
    table = caseload_table.table_one(cells)
    return table.loc[[*sorted(o for o in table.index if o != TOTAL), TOTAL]]


def quality_counts(data: QuarterData) -> Counts:
    rows = data.data_quality
    return counts_table(rows["issue"], {"Referrals": [int(v) for v in rows["referrals"]]},
                        "issue")


@dataclass
class QuarterFigures:
    """One quarter's counts, protected once: every pack that shows any of them (its own, or
    a later one as a comparison or in its trend) shows them exactly so."""

    data: QuarterData
    counts: dict[str, Counts]            # count tables by name (exact)
    protected: rules.Protected

    def table(self, name: str) -> pd.DataFrame:
        return self.protected.table(name, self.counts[name].frame)

    def count(self, measure: str) -> tuple[float | None, str]:
        if self.data.counts.get(measure) is None:
            return None, NOT_AVAILABLE
        key = figure_key(measure)
        value = self.protected.value(key)
        return (None if value is None else float(value)), self.protected.text(key)




CASELOAD, RECEIVED, IN_REHAB = ("Caseload at quarter end", "Referrals received",
                                "People in rehab at quarter end")
ADMISSIONS, EXITS = "Rehab admissions", ("Completions of 12 weeks", "Early discharges")


@dataclass
class History:
    """Every earlier quarter as its pack printed it, for the next quarter's audit: counts keyed
    (quarter, key) with their markers, and the sums between them, oldest quarter first."""

    publication: rules.Publication
    quarters: list[str] = field(default_factory=list)
    # the groups the history's withheld counts form through its sums (earlier_groups.py)
    groups: EarlierGroups = field(default_factory=EarlierGroups)
    # (count, quarter): the earlier quarters the count is tied to as never shrinking
    grown_from: dict[tuple[Hashable, str], set[str]] = field(default_factory=dict)

    def record(self, quarter: str, figures: QuarterFigures) -> None:
        own = figures.protected.publication
        # A quarter's publication starts with this history (publication() copies it in first),
        # whose counts and sums are all earlier ones: only what follows is the quarter's own.
        # Anything built otherwise is looked at whole.
        known, tied = len(self.publication.values), len(self.publication.sums)
        if own.history() is not self.groups or (own.history_values, own.history_sums) != (
                known, tied):  # not built by publication() from this history as it stands
            if [k for k, _ in islice(own.values.items(), known)] != list(
                    self.publication.values) or own.sums[:tied] != self.publication.sums:
                known = tied = 0
        # A floor its keys' markers already imply tells no later quarter anything: most do
        # (their cells shown), and kept, they were most of a long history's sums.
        withheld = figures.protected.withheld
        implied = own.implied_floors(withheld) if own.floors else set()
        for key, value in islice(own.values.items(), known, None):
            if key not in own.earlier and key not in implied:
                self.publication.printed_before((quarter, key), value, withheld.get(key))

        def renamed(key: Hashable) -> Hashable:
            return key if key in own.earlier else (quarter, key)
        # its own sums, and those tying it to earlier quarters
        for parts, total in own.sums[tied:]:
            if implied and (total[-1] if isinstance(total, Side) else total) in implied:
                continue
            if any(k not in own.earlier for k in rules.keys_of(parts, total)):
                self.publication.sums.append((
                    tuple(map(renamed, parts)),
                    Side(map(renamed, total)) if isinstance(total, Side) else renamed(total)))
        for least, keys, less in own.floor_terms.values():  # never_shrinks' ties
            if least == 0 and len(keys) == len(less) == 1 and keys[0][0] == CASELOAD_TABLE:
                earlier, now = less[0][0], keys[0]
                self.grown_from.setdefault((now, quarter), set()).update(
                    {earlier, *self.grown_from.get((now, earlier), ())})
        self.groups.take_in(self.publication)
        self.groups.carry(own.solutions, renamed)
        own.solutions = []  # carried now; a memo keeps every quarter's publication
        self.quarters.append(quarter)


def publication(data: QuarterData, threshold: int, history: History | None = None,
                floors: bool = True) -> tuple[rules.Publication, dict[str, Counts]]:
    """Every count a quarter's pack shows, and the sums a reader can rely on between them,
    with every earlier quarter as its own pack printed it (`history`); and, for a pack that
    withholds (`floors`), what its listed rows tell a reader (add_floors)."""
    out = rules.Publication(threshold)
    if history is not None:
        # As printed_before would put them, one by one: History.record checked each (every
        # earlier count is a whole number with its marker), and a publication copies them all.
        out.values.update(history.publication.values)
        out.earlier.update(history.publication.earlier)
        out.sums.extend(history.publication.sums)
        out.earlier_groups = history.groups
        out.history_sums = len(history.publication.sums)
        out.history_values = len(history.publication.values)
    for measure, value in data.counts.items():
        if value is not None:
            out.count(figure_key(measure), value)
    counts = {AREA_TABLE: area_counts(data),
              EARLY_TABLE: one_way_counts(data.early_discharges, "exit_reason", EARLY_TABLE),
              DIVERSION_TABLE: one_way_counts(data.diversions, "outcome", DIVERSION_TABLE),
              QUALITY_TABLE: quality_counts(data)}
    if data.caseload is not None:
        counts[CASELOAD_TABLE] = caseload_counts(data.caseload)
    for name, table in counts.items():
        totals = name != QUALITY_TABLE  # issues overlap: no total to protect
        out.grid(name, table.rows, table.columns, table.cells, total_row=totals,
                 total_column=name == CASELOAD_TABLE)
    for column in AREA_COLUMNS.values():
        out.same((AREA_TABLE, TOTAL, column), figure_key(column))
    out.same((EARLY_TABLE, TOTAL, EARLY_TABLE), figure_key("Early discharges"))
    out.same((DIVERSION_TABLE, TOTAL, DIVERSION_TABLE), figure_key("Diversions"))
    if data.caseload is not None:
        table = counts[CASELOAD_TABLE]
        out.same((CASELOAD_TABLE, TOTAL, TOTAL), figure_key("Caseload at quarter end"))
        if "Active" in table.columns:
            out.same((CASELOAD_TABLE, TOTAL, "Active"),
                     figure_key("Active caseload at quarter end"))
    if floors:
        add_floors(out, counts, history)
    if history is not None:
        link_to_earlier(out, history, floors)
    # A rate printed with its interval gives back its base and reached counts exactly.
    for measure in MEASURES:
        if measure.disclosure != RATE_OF_COUNTS:
            continue
        reached, base = data.rates.get(measure.name, (0, 0))
        r, n, b = rate_keys(measure.name)
        out.count(r, reached), out.count(n, base - reached), out.count(b, base)
        out.total([r, n], b)
        parts = {"reached": r, "not reached": n, "base": b}
        for part, other in measure.same_as:
            out.same(parts[part], figure_key(other))
    return out, counts


# Closed cases stay closed: a reader may take an officer's count in these never to fall (the
# red-team review of 03/12 pinned an officer's "<5" Inactive on the demo data so).
CLOSED_STATUSES = ("Inactive", "Withdrawn")


def add_floors(out: rules.Publication, counts: dict[str, Counts],
               history: History | None) -> None:
    """What a reader knows beyond the sums (the red-team review of 03/12 pinned whole quarters
    without it), each declared wherever the exact counts bear it out. Flows by area lists an
    area only with something in its row, Early discharges a reason only with someone who left
    for it, and the caseload an officer or status only with a referral held; since the
    programme began, an area's assessments are no more than its referrals and its admissions
    no more than its assessments; and an officer's caseload, and their closed cases, never
    shrink."""
    for name in (AREA_TABLE, EARLY_TABLE):
        table = counts[name]
        for row in table.rows[:-1]:  # the Total row is always there
            cells = [(name, row, column) for column in table.columns]
            if sum(out.values[k] for k in cells) >= 1:
                out.no_less_than(1, cells)
    if history is not None:
        for area in counts[AREA_TABLE].rows[:-1]:
            since = [since_start(out, history, (AREA_TABLE, area, column))
                     for column in AREA_COLUMNS.values()]
            for more, fewer in zip(since, since[1:]):  # referred, then assessed, then admitted
                at_least_where_it_holds(out, more, fewer)
        since_start_floors(out, counts, history)
    if CASELOAD_TABLE not in counts:
        return
    table = counts[CASELOAD_TABLE]
    for key in [*((CASELOAD_TABLE, officer, TOTAL) for officer in table.rows[:-1]),
                *((CASELOAD_TABLE, TOTAL, status) for status in table.columns[:-1])]:
        if out.values[key] >= 1:
            out.no_less_than(1, [key])
    if history is None:
        return
    for officer in table.rows[:-1]:
        for column in (TOTAL, *(s for s in CLOSED_STATUSES if s in table.columns)):
            never_shrinks(out, history, (CASELOAD_TABLE, officer, column))


# Since the programme began, each step of the journey has had no more people than the one
# before it, and no more have left the programme than were referred (a third review, 03/12,
# pinned a quarter's referrals "<5" at 4 from the first contacts so far).
STEPS_SINCE_START = (("Referrals received", "First contacts"),
                     ("First contacts", "Police assessments"),
                     ("Police assessments", "Pre-admission course starts"),
                     ("Referrals received", ("Withdrawals", "Diversions", "Deaths")))


def since_start_floors(out: rules.Publication, counts: dict[str, Counts],
                       history: History) -> None:
    """The journey since the first quarter (STEPS_SINCE_START); at quarter end, the Withdrawn
    cases are at least the withdrawals so far, the active caseload at least the people in
    rehab, and the stock at least what came in during the quarter and is not gone; each
    wherever the exact counts bear it out."""
    def since(*measures: str) -> list[Hashable]:
        return [k for m in measures for k in since_start(out, history, figure_key(m))]

    for more, fewer in STEPS_SINCE_START:
        at_least_where_it_holds(out, since(more),
                                since(*fewer) if isinstance(fewer, tuple) else since(fewer))
    withdrawn = (CASELOAD_TABLE, TOTAL, "Withdrawn")
    if CASELOAD_TABLE in counts and withdrawn in out.values:
        at_least_where_it_holds(out, [withdrawn], since("Withdrawals"))
    active, in_rehab = figure_key("Active caseload at quarter end"), figure_key(IN_REHAB)
    if active in out.values and in_rehab in out.values:
        at_least_where_it_holds(out, [active], [in_rehab])
    # Within the quarter, though the stock before is not known (a snapshot taken mid-quarter
    # breaks link_to_earlier): those referred in it are held at its end, and those admitted
    # in it are still in rehab or left in it (a review's fuzzing pinned early discharges so).
    if figure_key(CASELOAD) in out.values:
        at_least_where_it_holds(out, [figure_key(CASELOAD)], [figure_key(RECEIVED)])
    if in_rehab in out.values:
        at_least_where_it_holds(out, [in_rehab, *(figure_key(m) for m in EXITS)],
                                [figure_key(ADMISSIONS)])


def never_shrinks(out: rules.Publication, history: History, now: tuple) -> None:
    """The count is no less than in any earlier quarter that shows it, wherever that holds:
    tied to the newest such quarter, and to older ones only where the ties already made do
    not imply it (History.grown_from)."""
    implied: set[str] = set()
    for quarter in reversed(history.quarters):
        before = (quarter, now)
        if quarter in implied or before not in out.values:
            continue
        if at_least_where_it_holds(out, [now], [before]):
            implied |= {quarter, *history.grown_from.get((now, quarter), ())}


def since_start(out: rules.Publication, history: History, key: Hashable) -> list[Hashable]:
    """The count in every quarter since the first that has it, this one last."""
    return [k for k in (*((q, key) for q in history.quarters), key) if k in out.values]


def at_least_where_it_holds(out: rules.Publication, more: list[Hashable],
                            fewer: list[Hashable]) -> bool:
    """Declares that `more` come to no less than `fewer` (a floor), where every key is counted
    and the exact counts bear it out; whether it did."""
    if more and all(k in out.values for k in (*more, *fewer)) and \
            sum(out.values[k] for k in more) >= sum(out.values[k] for k in fewer):
        out.no_less_than(0, more, fewer)
        return True
    return False


def link_to_earlier(out: rules.Publication, history: History, floors: bool = False) -> None:
    """Stock at quarter end is an earlier stock plus what came in since, less what went out,
    and a reader who sees that hold where every figure is shown uses it where one is not (one
    quarter-end caseload less the last gave back a withheld referrals figure): the caseload
    is an earlier one plus the referrals received since; the people in rehab, an earlier
    count plus the admissions since, less the completions and early discharges. With no
    stock taken before, the first is every flow since the history's first quarter
    (build.protected_history starts it at the programme's first referral, and the tracker
    holds every referral). Each joins the publication where the exact counts bear it out;
    where referrals were added late or removed it does not hold, and a reader's subtraction
    is then wrong."""
    def since(measure: str, after: str | None) -> list[Hashable]:
        later = history.quarters[history.quarters.index(after) + 1:] if after is not None \
            else history.quarters
        return [*((q, figure_key(measure)) for q in later), figure_key(measure)]

    def stock(measure: str, after: str | None) -> list[Hashable]:
        return [(after, figure_key(measure))] if after is not None else []

    def counted(*keys: Hashable) -> bool:
        return all(k in out.values for k in keys)

    # Not only the last stock: a referral recorded late, or a snapshot taken mid-quarter,
    # breaks the link on both sides of one stock, yet the stocks either side of it still
    # differ by exactly the flows between (found by a review on 01/12). The newest earlier
    # stock (or the start) that bears it out is enough: a link to an older one is then the
    # sum of links already made, or does not hold.
    def taken(measure: str) -> list[str | None]:
        return [*(q for q in reversed(history.quarters)
                  if (q, figure_key(measure)) in history.publication.values), None]

    for last in taken(CASELOAD):
        parts = [*stock(CASELOAD, last), *since(RECEIVED, last)]
        if counted(*parts, figure_key(CASELOAD)) and sum(out.values[k] for k in parts) \
                == out.values[figure_key(CASELOAD)]:
            out.total(parts, figure_key(CASELOAD))
            break
    for last in taken(IN_REHAB):
        came = [*stock(IN_REHAB, last), *since(ADMISSIONS, last)]
        went = [figure_key(IN_REHAB), *(k for measure in EXITS for k in since(measure, last))]
        if counted(*came, *went) and sum(out.values[k] for k in came) \
                == sum(out.values[k] for k in went):
            out.balance(came, went)
            break
    if floors:
        # However the links break, no one leaves rehab without being in it: from every
        # earlier count (or the start), the count plus the admissions since, less the exits
        # since, is 0 or more (a review's fuzzing on 03/12 pinned a quarter's early discharges
        # through a mid-quarter snapshot without it).
        for last in taken(IN_REHAB):
            came = [*stock(IN_REHAB, last), *since(ADMISSIONS, last)]
            went = [k for measure in EXITS for k in since(measure, last)]
            at_least_where_it_holds(out, came, went)


def protect_quarter(data: QuarterData, how: str, threshold: int,
                    history: History | None = None) -> QuarterFigures:
    published, counts = publication(data, threshold, history, how == rules.CONTROLLED)
    return QuarterFigures(data, counts, published.protect(how))
