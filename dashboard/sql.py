"""The one place an identifier is ever put into SQL text; values are always bound."""

from __future__ import annotations

import re

_SAFE = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier; only our own generated names reach this."""
    if not _SAFE.match(name):
        raise ValueError(f"Unexpected identifier {name!r}")
    return '"' + name + '"'
