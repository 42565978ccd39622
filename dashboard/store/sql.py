"""The one place an identifier is ever put into SQL text; values are always bound."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from dashboard.ingest.contract import FORBIDDEN_RE2, header_key, id_form, names_nothing

_SAFE = re.compile(r"^[a-z_][a-z0-9_]*$")

# DuckDB 2.0 has NFC (nfc_normalize) and simple lower/upper, but no NFKC and no case folding,
# so the text rules of dashboard/ingest/contract.py are not written twice: SQL calls those very
# functions. An ASCII value skips the call (strlen = length only when every character is one
# byte): for ASCII, NFKC changes nothing, folding is lower-casing and the only letters and
# digits are [0-9A-Za-z], so the SQL branch gives the same answer, faster
# (tests/test_ingest_text.py checks that both agree on a list of awkward strings).
_PYTHON_FUNCTIONS = {"py_norm_key": (header_key, "VARCHAR"),
                     "py_names_nothing": (names_nothing, "BOOLEAN"),
                     "py_id_form": (id_form, "VARCHAR")}
TEXT_MACROS = [
    "create or replace temp macro norm_key(v) as case when strlen(v) = length(v) "
    "then regexp_replace(lower(v), '[^0-9a-z]', '', 'g') else py_norm_key(v) end",
    # A value that starts with an ASCII letter or digit names something in any script (NFKC
    # and case folding keep such a character a letter or digit): most do, and skip the rest.
    "create or replace temp macro names_nothing(v) as case when ascii(v) between 48 and 57 "
    "or ascii(v) between 65 and 90 or ascii(v) between 97 and 122 then false "
    "when strlen(v) = length(v) then not regexp_matches(v, '[0-9A-Za-z]') "
    "else py_names_nothing(v) end",
    "create or replace temp macro id_form(v) as case when strlen(v) = length(v) "
    # Cells reach id_form trimmed of spaces; NFKC can make new ones (from no-break spaces),
    # which the Python branch trims.
    "then upper(v) else py_id_form(v) end",
    f"create or replace temp macro has_forbidden(v) as regexp_matches(v, '{FORBIDDEN_RE2}')",
]


def install_text_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Give the connection norm_key, names_nothing, id_form and has_forbidden (see contract).

    Call it outside a transaction: it relies on a refused create changing nothing. The
    Python functions belong to the database, so another connection may have created them
    already: asking which exist (duckdb_functions() lists every built-in function) cost 0.01
    CPU-s, a hundred times more than being told so.
    """
    for name, (function, returns) in _PYTHON_FUNCTIONS.items():
        try:
            con.create_function(name, function, ["VARCHAR"], returns, side_effects=False)
        # Created by another connection (CatalogException), or by this one (its own error).
        except (duckdb.CatalogException, duckdb.NotImplementedException) as exc:
            if "already" not in str(exc):
                raise
    for macro in TEXT_MACROS:
        con.execute(macro)


def install_macros(con: duckdb.DuckDBPyConnection, macros_dir: Path) -> None:
    """Create the shared macros of queries/macros/ on the connection.

    DuckDB refuses a table macro that calls one not yet created, so a file that fails for that
    reason is tried again once the others are in ("create or replace" makes a retry harmless):
    the files need no order of their own."""
    waiting = sorted(macros_dir.glob("*.sql"))
    while waiting:
        failed: list[tuple[Path, duckdb.CatalogException]] = []
        for path in waiting:
            try:
                con.execute(path.read_text(encoding="utf-8"))
            except duckdb.CatalogException as error:
                failed.append((path, error))
        if len(failed) == len(waiting):
            path, error = failed[0]
            raise ValueError(f"queries/macros/{path.name} cannot be created: {error}") from error
        waiting = [path for path, _ in failed]


def quote_literal_list(values: list[str]) -> str:
    """A SQL list of string literals, for constants of our own (never user input)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier; only our own generated names reach this."""
    if not _SAFE.match(name):
        raise ValueError(f"Unexpected identifier {name!r}")
    return '"' + name + '"'


def spellings_table(column: str) -> str:
    """The staging table of an upload's spellings of one labelled column."""
    return quote_ident(f"spellings_{column}")
