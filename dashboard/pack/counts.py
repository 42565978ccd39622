"""A table of exact counts as a quarter's publication keys it: plain lists, the frame made only
when a pack prints the table."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Counts:
    """A table of exact counts as the publication keys it (row labels, column labels, a list
    of whole numbers per row), its frame made only when a pack prints the table: a circulated
    pack protects every quarter since the first and prints one quarter's tables, and making
    the frames was about a quarter of protecting a quarter."""

    rows: list[Hashable]
    columns: list[Hashable]
    cells: list[list[int]]
    make_frame: Callable[[], pd.DataFrame] = field(repr=False, compare=False)

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        return self.make_frame()


def counts_of(frame: pd.DataFrame) -> Counts:
    """The table of counts a frame holds, keyed by its labels as they come out of it."""
    return Counts(list(frame.index), list(frame.columns), frame.to_numpy().tolist(),
                  functools.partial(_as_made, frame))  # a partial pickles; a lambda does not


def _as_made(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def counts_table(labels: list, columns: dict[str, list[int]], index_name: str | None = None
                 ) -> Counts:
    """A table of exact counts: rows labelled (as text), whole-number columns in order."""
    make = functools.partial(counts_frame, labels, columns, index_name)
    if not all(type(label) is str for label in (*labels, *columns)) or any(
            len(values) != len(labels) for values in columns.values()):
        return counts_of(make())  # labels as the frame makes them text (or refuses the shape)
    names = list(columns)
    return Counts(list(labels), names,
                  [[int(columns[name][i]) for name in names] for i in range(len(labels))], make)


def counts_frame(labels: list, columns: dict[str, list[int]], index_name: str | None = None
                 ) -> pd.DataFrame:
    """counts_table's frame, built in one step from plain lists: pandas filtering,
    concatenating and casting the queries' small results cost 2-6 ms a table."""
    cells = np.array(list(columns.values()), dtype="int64").reshape(len(columns), len(labels))
    return pd.DataFrame(cells.T, index=pd.Index(labels, dtype="str", name=index_name),
                        columns=pd.Index(list(columns), dtype="str"))
