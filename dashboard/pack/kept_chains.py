"""Quarters protected on one version of the data, kept for the next: the first circulated pack
after an upload protects again only the quarters from the first whose data changed.

A circulated pack protects each quarter after every quarter before it (build.protected_history),
so a quarter's markers follow from its own data, the data of every quarter before it, and the
chain's disclosure, threshold and first quarter (`KeptChains`' key), nothing else. A new
version of the data whose quarters up to q hold the same data as a kept run's protects them
exactly so: their figures are taken over, and the history after them is restored from a copy
taken then. Which quarters changed is read from each quarter's data itself (`fingerprint`),
never from dates or upload numbers, so an event recorded late in an old quarter is caught
like any other. An upload mostly changes the last quarters (late events, rehab stays not yet
12 weeks long, exits whose 6 months of Connect follow-up are not over), and reaches further
back through a referral's data-quality issues, counted in every quarter it had an event in:
so copies of the history are taken before the data's latest quarter and some before it
(CHECKPOINTS), not before every quarter."""

from __future__ import annotations

import dataclasses
import math
import pickle
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dashboard.pack.gathering import QuarterData
from dashboard.pack.quarters import Quarter
from dashboard.pack.tables import QuarterFigures

if TYPE_CHECKING:
    from dashboard.pack.build import _Chain
    from dashboard.pack.protected import Protected

# How many quarters before the data's latest one a copy of the history is taken: each costs
# about a hundredth of a CPU-s at 1,000 referrals (a pickle of the history), while protecting
# again from the first quarter costs about 2.
CHECKPOINTS = (0, 1, 2, 4, 8)


def fingerprint(data: QuarterData) -> bytes:
    """What protecting a quarter reads of its data, as bytes: equal bytes, equal data.

    The uploads a quarter is read from are left out: the pack prints them (which is why
    kept figures are given the new version's data), but no count or marker depends on them,
    and every upload has a new number (tests/test_kept_chains.py holds protection to that).
    Every other field is taken whole, so a field added later is compared too."""
    return pickle.dumps(tuple(_plain(getattr(data, f.name)) for f in dataclasses.fields(data)
                              if f.name not in UPLOADS), protocol=pickle.HIGHEST_PROTOCOL)


UPLOADS = ("flows_snapshot", "stock_snapshot", "connect")


def _plain(value: object, in_rows: bool = False) -> object:
    """`value` as plain Python values, alike however a quarter's rows were read: the same
    quarter read in another batch of quarters can hold a missing label as None or as NaN,
    and a count as 3 or 3.0, and protection reads them alike (pd.isna, int). Only within
    rows (`in_rows`: a query's columns, a frame's cells) is a missing value one value: a
    quarter's own count of None is left out of its pack, where NaN would stop it."""
    if isinstance(value, pd.DataFrame):
        return ("frame", tuple(_plain(v, True) for v in value.columns),
                tuple(_plain(v, True) for v in value.index),
                tuple(tuple(_plain(v, True) for v in row)
                      for row in value.itertuples(index=False, name=None)))
    if isinstance(value, Mapping):
        return ("map", tuple((_plain(k, in_rows), _plain(v, in_rows))
                             for k, v in value.items()))
    if isinstance(value, (list, tuple, np.ndarray)):
        return ("sequence", tuple(_plain(v, True) for v in value))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None if in_rows else ("NaN",)
    if in_rows and (value is pd.NA or value is pd.NaT):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Run:
    """One chain's quarters from its first, as one version of the data protects them: each
    quarter's fingerprint and figures (its exact counts and protected publication), and
    copies of the history after the first n of them (`checkpoints`, keyed by n). Only its
    chain adds to it; what it took over from an earlier version's run is for quarters whose
    data that version held alike, so all of it holds for this version."""

    fingerprints: list[bytes] = field(default_factory=list)
    figures: list[tuple[dict, Protected]] = field(default_factory=list)
    checkpoints: dict[int, bytes] = field(default_factory=dict)


class KeptChains:
    """The latest run of each chain, kept across versions of the data (one per database:
    data_access holds it beside the memos). Safe to share between threads and memos."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[tuple, Run] = {}

    def end(self, key: tuple) -> Quarter | None:
        """The last quarter the kept run of `key` (disclosure, threshold, first) holds."""
        with self.lock:
            kept = self.runs.get(key)
            return key[2].shift(len(kept.fingerprints) - 1) if kept and kept.fingerprints \
                else None

    def resume(self, key: tuple, chain: _Chain, data_of: Callable[[Quarter], QuarterData],
               latest: Quarter) -> None:
        """Starts `chain` (new, nothing protected yet) where the kept run of `key` stops
        holding the same data: the quarters before are taken over, with the history after
        them, up to the latest copy of it taken within them. Every quarter the run holds is
        compared, whichever the pack asks for, so a first pack of an early quarter takes
        over the later ones too. The chain's run is kept from now on, in place of the one
        before, with the copies of the history within CHECKPOINTS of `latest` (the data's
        latest quarter)."""
        with self.lock:
            kept = self.runs.get(key)
            fingerprints, figures, checkpoints = (
                (list(kept.fingerprints), list(kept.figures), dict(kept.checkpoints))
                if kept else ([], [], {}))
        first, same = chain.next, 0
        while same < len(fingerprints) \
                and fingerprint(data_of(first.shift(same))) == fingerprints[same]:
            same += 1
        start = max((n for n in checkpoints if n <= same), default=0)
        run = Run(fingerprints[:start], figures[:start],
                  {n: copy for n, copy in checkpoints.items()
                   if n <= start and _in_reach(first.shift(n), latest)})
        if start:
            # Pickled by this process from its own objects, never read from outside it; a
            # round trip costs a tenth of copy.deepcopy.
            chain.history = pickle.loads(checkpoints[start])
            for n, (counts, protected) in enumerate(figures[:start]):
                quarter = first.shift(n)
                chain.protected[quarter] = QuarterFigures(data_of(quarter), counts, protected)
            chain.next = first.shift(start)
        chain.run = run
        with self.lock:
            self.runs[key] = run

    def before(self, chain: _Chain, latest: Quarter) -> None:
        """Before `chain` protects its next quarter: a copy of the history so far, if that
        quarter is CHECKPOINTS quarters before the data's latest (`latest`)."""
        run, n = chain.run, len(chain.run.fingerprints)
        if _wanted(chain.next, latest) and n not in run.checkpoints:
            copy = pickle.dumps(chain.history, protocol=pickle.HIGHEST_PROTOCOL)
            with self.lock:
                run.checkpoints[n] = copy

    def after(self, chain: _Chain, figures: QuarterFigures) -> None:
        """Once `chain` has protected a quarter and recorded it in its history."""
        kept = fingerprint(figures.data)
        with self.lock:
            chain.run.fingerprints.append(kept)
            chain.run.figures.append((figures.counts, figures.protected))


def _wanted(quarter: Quarter, latest: Quarter) -> bool:
    """Whether a copy of the history is taken before `quarter` (CHECKPOINTS before
    `latest`)."""
    return any(quarter == latest.shift(-k) for k in CHECKPOINTS)


def _in_reach(quarter: Quarter, latest: Quarter) -> bool:
    """Whether a copy taken before `quarter` is kept as the latest quarter moves on: only
    within CHECKPOINTS of it, or a long-running server would come to hold one for every
    quarter (at most max(CHECKPOINTS) + 1 are kept)."""
    return latest.shift(-max(CHECKPOINTS)) <= quarter <= latest
