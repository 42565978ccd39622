"""The one place an identifier is ever put into SQL text; values are always bound."""

from __future__ import annotations

import re

_SAFE = re.compile(r"^[a-z_][a-z0-9_]*$")


# The SQL twin of contract.header_key: values compared without case, spacing or punctuation.
NORM_KEY_MACRO = ("create or replace temp macro norm_key(v) as "
                  "regexp_replace(lower(v), '[^0-9a-z]', '', 'g')")


def quote_literal_list(values: list[str]) -> str:
    """A SQL list of string literals, for constants of our own (never user input)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier; only our own generated names reach this."""
    if not _SAFE.match(name):
        raise ValueError(f"Unexpected identifier {name!r}")
    return '"' + name + '"'
