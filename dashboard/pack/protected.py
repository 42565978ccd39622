"""A publication after protection: what each of its counts, totals and rates may show."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.analysis import stats
from dashboard.pack.markers import NOT_APPLICABLE, NOT_AVAILABLE, SECONDARY, count_text

if TYPE_CHECKING:
    from dashboard.pack.disclosure import Publication


@dataclass
class Protected:
    """A publication after protection: what each count, total and rate may show."""

    publication: Publication
    withheld: dict[Hashable, str]

    def is_withheld(self, key: Hashable) -> bool:
        return key in self.withheld

    def value(self, key: Hashable) -> int | None:
        """The count as shown, or None where it is withheld."""
        return None if key in self.withheld else self.publication.values[key]

    def text(self, key: Hashable) -> str:
        """The count as printed: '42', '0', '<5' or '[c]'."""
        return self.withheld.get(key) or count_text(self.publication.values[key])

    def rate(self, reached: Hashable, not_reached: Hashable, base: Hashable
             ) -> tuple[float | None, str]:
        """(proportion or None, text): shown only where its base, reached and not-reached
        counts are all shown, since any of them with the rate gives the others back."""
        n_reached, n_base = self.publication.values[reached], self.publication.values[base]
        if self.withheld.get(base) == NOT_AVAILABLE:
            # "[z]" would say the base is 0 and "[c]" that it is not: either sizes it
            return None, NOT_AVAILABLE
        if n_base == 0:
            return None, NOT_APPLICABLE
        if any(k in self.withheld for k in (reached, not_reached, base)):
            return None, SECONDARY
        return n_reached / n_base, stats.describe_rate(n_reached, n_base)

    def table(self, name: str, counts: pd.DataFrame) -> pd.DataFrame:
        """The table as printed: whole numbers, withheld cells as their markers."""
        shown = counts.astype(object).copy()
        cells = counts.to_numpy()
        for j, column in enumerate(counts.columns):
            shown[column] = [self.withheld.get((name, row, column), int(cells[i, j]))
                             for i, row in enumerate(counts.index)]
        return shown
