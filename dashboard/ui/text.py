"""Text from uploaded data shown inside Markdown (captions, alerts) as plain text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Every character Markdown (or Streamlit's extensions: colours, icons, maths) could act on.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=])")


def plain(value: object) -> str:
    """The value with Markdown's special characters escaped: shown, never interpreted."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def counted(n: int, one: str, many: str) -> str:
    """'1 person', '3 people': a count with its noun in the right number."""
    return f"{n:,} {one if n == 1 else many}"


def each_or(values: Iterable, show: Callable[[object], str], missing: str) -> list[str]:
    """Each value as `show` writes it, a missing one as `missing` (why it is missing): a grid
    otherwise prints a missing number as "None"."""
    import pandas as pd  # here, not above: the ingest words its counts with counted()

    return [missing if pd.isna(v) else show(v) for v in values]
