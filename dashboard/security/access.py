"""Who may see what: the one place that decides, applied to every query as it runs.

Each query file declares its access level in a `-- access: LEVEL` line:
- programme: figures about the data itself (snapshot dates); every role.
- referrals: aggregates over referrals; an officer's are limited to their own referrals. The
  scrutiny panel runs none: it sees them only through the protected quarterly pack.
- person: one row per person (nominal IDs); officers (their own only), steering, admin.
- admin: administration (the upload log); admin only.
Scoping is bound as a query parameter ($scope_officers), never left to hiding a widget.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Container
from dataclasses import dataclass

from dashboard.ingest.contract import is_unallocated

ROLES = ("officer", "steering", "scrutiny", "admin")
LEVELS = ("programme", "referrals", "person", "admin")
SCOPE_PARAMETER = "scope_officers"
LEVEL_LINE = re.compile(r"^--\s*access:\s*([a-z]+)\s*$", re.MULTILINE)

# Pages, by file stem in pages/.
CHART_PAGES = frozenset({"overview", "referral_sources", "offending_areas", "officer_caseloads",
                         "journey_flow", "outcomes", "cost_savings"})
ADMIN_PAGES = frozenset({"data", "access_log", "users"})
# Pages that read the filter bar; the others (the pack, the admin pages, the method) do not
# show it, as it would change nothing there.
FILTERED_PAGES = CHART_PAGES | {"my_work", "referral_list"}


@dataclass(frozen=True)
class Capability:
    """What a role may do: the one table app.py, the pack and the command line read."""

    pages: frozenset[str]          # pages in its navigation (file stems in pages/)
    query_levels: frozenset[str]   # the `-- access:` levels of queries it may run
    pack_modes: tuple[str, ...]    # quarterly pack disclosures it may have
    logged_levels: frozenset[str]  # query levels whose every view is written to the access log
    filters: bool                  # whether it has the sidebar's free filters


# The scrutiny panel sees published-style figures only: the quarterly pack, protected as one
# publication per quarter (docs/disclosure.md). Free filters and the chart pages would let
# hidden counts be worked out by differencing one view against another.
CAPABILITIES = {
    "officer": Capability(CHART_PAGES | {"my_work", "referral_list", "methodology"},
                          frozenset({"programme", "referrals", "person"}), (),
                          frozenset({"person"}), True),
    "steering": Capability(CHART_PAGES | {"my_work", "referral_list", "quarterly_pack",
                                          "methodology"},
                           frozenset({"programme", "referrals", "person"}),
                           ("controlled", "exact"), frozenset({"person"}), True),
    "scrutiny": Capability(frozenset({"quarterly_pack", "methodology"}),
                           frozenset({"programme"}), ("controlled",), frozenset(), False),
    "admin": Capability(CHART_PAGES | ADMIN_PAGES | {"my_work", "referral_list",
                                                     "quarterly_pack", "methodology"},
                        frozenset(LEVELS), ("controlled", "exact"), frozenset({"person"}), True),
}


@dataclass(frozen=True)
class Viewer:
    """Someone reading data: their role, and for an officer the tracker names that are theirs."""

    name: str
    role: str
    officer_names: tuple[str, ...] = ()
    is_demo: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r}; roles are {', '.join(ROLES)}")

    @property
    def sees_people(self) -> bool:
        return "person" in CAPABILITIES[self.role].query_levels

    def cache_key(self) -> tuple:
        """What decides the rows this viewer may see, and nothing about who they are: the
        role's capability and, for an officer, the tracker names bound as their scope. Two
        viewers with equal keys see exactly the same rows, so they may share cached results."""
        return (self.role, CAPABILITIES[self.role], self.scope())

    def scope(self) -> tuple[str, ...]:
        """The officer names bound as $scope_officers (sorted; empty for other roles). Never
        "Unallocated", the tracker's blank officer: every referral with no officer is nobody's
        caseload (an account linked to it before that was refused keeps the link, unused)."""
        if self.role != "officer":
            return ()
        return tuple(sorted({name for name in self.officer_names if not is_unallocated(name)}))

    def as_scope(self) -> Viewer:
        """A nameless viewer that sees exactly what this one sees (runs cached queries)."""
        return Viewer(f"{self.role} scope", self.role, self.scope())


# The command line is used by whoever holds the database file itself.
COMMAND_LINE = Viewer("command line", "admin")
# Who the demo data's uploads are logged as (service.build_demo).
DEMO_UPLOADER = "demo (synthetic data)"
# One-click accounts while the data is the demo's (security/sign_in.py). Their names, and the
# demo uploader's, are reserved: a real account of the same name would share their entries
# in the access log.
DEMO_VIEWERS = {
    "steering": Viewer("Demo steering-group member", "steering", is_demo=True),
    "officer": Viewer("Demo officer (Officer 1)", "officer", ("Officer 1",), is_demo=True),
    "scrutiny": Viewer("Demo scrutiny-panel member", "scrutiny", is_demo=True),
    "admin": Viewer("Demo administrator", "admin", is_demo=True),
}
# The quarterly pack reads exact programme-wide counts, then protects them for its reader.
PUBLICATION = Viewer("quarterly pack", "steering")


def capability(viewer: Viewer) -> Capability:
    return CAPABILITIES[viewer.role]


def is_logged(viewer: Viewer, level: str) -> bool:
    """Whether each view of this query level by this viewer goes to the access log."""
    return level in CAPABILITIES[viewer.role].logged_levels


class AccessDenied(PermissionError):
    """The viewer's role may not run this query."""


def level_of(sql: str, name: str) -> str:
    match = LEVEL_LINE.search(sql)
    if not match or match.group(1) not in LEVELS:
        raise ValueError(f"queries/{name}.sql has no '-- access: LEVEL' line ({', '.join(LEVELS)})")
    return match.group(1)


# A function that applies an officer's scope: scoped_referrals, and each macro of
# queries/macros that passes its own scope argument on to one of them.
ROOT_SCOPED = "scoped_referrals"
HIDDEN_TOKENS = ("comment", "string_const")
CALL = re.compile(r"\b([a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE)
MACRO_HEAD = re.compile(r"\bmacro\s+(?=[a-z_][a-z0-9_]*\s*\()", re.IGNORECASE)


def code_only(sql: str) -> str:
    """The SQL with its comments and string literals blanked, as DuckDB's own tokenizer reads
    them: a `--`, `/* */` or a call written inside a literal must neither hide a call from the
    scope check nor stand in for one."""
    import duckdb  # here, not at the top: the command line imports this module without DuckDB

    tokens = duckdb.tokenize(sql)
    kept, ends = [], [start for start, _ in tokens[1:]] + [len(sql)]
    for (start, kind), end in zip(tokens, ends, strict=True):
        hidden = kind.name in HIDDEN_TOKENS
        kept.append(" " * (end - start) if hidden else sql[start:end])
    return sql[:tokens[0][0]] + "".join(kept) if tokens else sql


# Table functions that read whatever SQL or table name a string holds: the parser cannot see
# what they read, so a query or macro that calls one is taken to read referrals.
READS_FROM_TEXT = frozenset({"query", "query_table"})


# One in-memory database parses every query and macro: opening one cost about 35 times the
# parse, paid for each of some 35 queries and macros the first time a process ran them (a
# third of a command-line query's CPU). A connection is not for two threads at once.
_PARSER_LOCK = threading.Lock()


@functools.cache
def _parser():
    import duckdb  # here, not at the top: the command line imports this module without DuckDB

    return duckdb.connect()


def reads_referrals(select_sql: str) -> bool:
    """Whether a SELECT reads the referrals table itself, by DuckDB's own parser
    (json_serialize_sql): a table named in quotes or a string, in a comma join, a sub-query or
    `table referrals` is found where a pattern on the text misses it. SQL that cannot be parsed
    as a SELECT is taken to read it."""
    import json

    with _PARSER_LOCK:
        tree = json.loads(_parser().execute("select json_serialize_sql(?::varchar)",
                                            [select_sql]).fetchone()[0])
    if tree.get("error"):
        return True
    nodes = [tree]
    while nodes:
        node = nodes.pop()
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "BASE_TABLE" and str(node.get("table_name", "")).lower() == "referrals":
                return True
            if kind == "TABLE_FUNCTION" and str(node.get("function", {}).get(
                    "function_name", "")).lower() in READS_FROM_TEXT:
                return True
            nodes.extend(node.values())
        elif isinstance(node, list):
            nodes.extend(node)
    return False


def _calls(sql: str, only: Container[str] | None = None) -> list[tuple[str, list[str], int]]:
    """Each function call in the SQL (of the functions named in `only`, if given): its name, its
    top-level arguments and where it ends."""
    out = []
    for match in CALL.finditer(sql):
        if only is not None and match.group(1).lower() not in only:
            continue
        depth, start, args = 0, match.end(), []
        for i in range(match.end(), len(sql)):
            if sql[i] == "(":
                depth += 1
            elif sql[i] == "," and depth == 0:
                args.append(sql[start:i].strip())
                start = i + 1
            elif sql[i] == ")":
                if depth == 0:
                    args.append(sql[start:i].strip())
                    out.append((match.group(1).lower(), args, i + 1))
                    break
                depth -= 1
    return out


def _passes_scope(calls: list[tuple[str, list[str], int]], scoped: dict[str, int],
                  scope_argument: str) -> bool:
    """Whether the SQL calls a scoped function, each time with this scope argument."""
    made = [(name, args) for name, args, _ in calls if name in scoped]
    return bool(made) and all(len(args) > scoped[name] and args[scoped[name]] == scope_argument
                              for name, args in made)


MACRO_BODY = re.compile(r"^\s*as\s+(table\s+)?", re.IGNORECASE)


@dataclass(frozen=True)
class Macro:
    parameters: list[str]
    code: str             # its body with comments and literals blanked (code_only)
    reads_itself: bool    # reads the referrals table, not through another macro


@functools.cache
def _macros(macro_files: tuple[str, ...]) -> dict[str, Macro]:
    """Each macro of the files, one CREATE statement at a time (DuckDB's own splitter); parsed
    once for scoped_functions and unscoped_readers both."""
    import duckdb  # here, not at the top: the command line imports this module without DuckDB

    macros = {}
    for text in macro_files:
        for statement in duckdb.extract_statements(text):
            original = statement.query
            code = code_only(original)
            head = MACRO_HEAD.search(code)
            if head is None:
                continue
            name, parameters, end = _calls(code[head.end():])[0]
            start = head.end() + end
            stop = code.rstrip().rfind(";")
            stop = stop if stop > start else len(code)
            body = MACRO_BODY.match(original[start:stop])
            select = original[start + body.end():stop] if body else ""
            is_table = bool(body and body.group(1))
            macros[name] = Macro(parameters, code[start:stop], not body or reads_referrals(
                select if is_table else f"select {select}"))
    return macros


def unscoped_readers(macro_files: list[str]) -> frozenset[str]:
    """The macros that read referrals, themselves or through another macro, without applying
    an officer's scope: no query may call one, whatever else it calls."""
    macros, scoped = _macros(tuple(macro_files)), scoped_functions(macro_files)
    readers = {name for name, macro in macros.items() if macro.reads_itself} | set(scoped)
    found = True
    while found:
        found = False
        for name, macro in macros.items():
            if name not in readers and any(call in readers for call, _, _ in _calls(macro.code)):
                readers.add(name)
                found = True
    return frozenset(readers - set(scoped))


def scoped_functions(macro_files: list[str]) -> dict[str, int]:
    """Each function that applies an officer's scope, with the position of its scope argument.

    scoped_referrals applies it; a macro is scoped too when it reads no referrals itself and
    every call it makes to a scoped function passes on its own scope argument."""
    macros = _macros(tuple(macro_files))
    scoped = {ROOT_SCOPED: next(i for i, p in enumerate(macros[ROOT_SCOPED].parameters)
                                if p.endswith(SCOPE_PARAMETER))}
    found = True
    while found:
        found = False
        for name, macro in macros.items():
            parameters = macro.parameters
            positions = [i for i, p in enumerate(parameters) if p.endswith(SCOPE_PARAMETER)]
            if name in scoped or len(positions) != 1 or macro.reads_itself:
                continue
            if _passes_scope(_calls(macro.code), scoped, parameters[positions[0]]):
                scoped[name] = positions[0]
                found = True
    return scoped


def check_query(name: str, sql: str, level: str, parameters: list[str],
                scoped: dict[str, int] | None = None,
                unscoped: Container[str] = frozenset()) -> None:
    """No query reads the referrals table itself (nor through a macro that does, `unscoped`,
    from unscoped_readers). A query that counts or lists referrals must read them through
    scoped_referrals(..., $scope_officers, ...), the one place the scope is applied, or a macro
    that passes $scope_officers on to it (`scoped`, from scoped_functions)."""
    scoped = scoped or {ROOT_SCOPED: 1}
    code = code_only(sql)
    reads_unscoped = reads_referrals(sql) or any(
        call in unscoped for call, _, _ in _calls(code))
    if reads_unscoped or (level in ("referrals", "person") and (
            SCOPE_PARAMETER not in parameters
            or not _passes_scope(_calls(code, scoped), scoped, f"${SCOPE_PARAMETER}"))):
        raise ValueError(f"queries/{name}.sql must read referrals only through "
                         f"scoped_referrals(..., ${SCOPE_PARAMETER}, ...) or a macro that "
                         f"passes ${SCOPE_PARAMETER} on to it ({', '.join(sorted(scoped))})")


def authorise(viewer: Viewer, name: str, level: str, parameters: list[str],
              params: dict) -> dict:
    """The parameters to bind for this viewer, or AccessDenied."""
    if level not in CAPABILITIES[viewer.role].query_levels:
        raise AccessDenied(f"The {viewer.role} role may not see {name.replace('_', ' ')}")
    if SCOPE_PARAMETER in params:
        raise AccessDenied(f"{SCOPE_PARAMETER} is set by access rules, not by callers")
    chosen = [name for name in ("snapshot_id", "snapshot_ids") if params.get(name) is not None]
    if viewer.role == "officer" and chosen:
        # An earlier snapshot would show referrals that were theirs then and have moved since,
        # with those people's later offences (crimes join on the person, not on who had them).
        raise AccessDenied("An officer sees the latest tracker snapshot only: leave out "
                           f"{chosen[0]}")
    bound = dict(params)
    if level in ("referrals", "person"):
        # An officer with no tracker names mapped gets an empty list: they see nothing.
        bound[SCOPE_PARAMETER] = list(viewer.scope()) if viewer.role == "officer" else None
    return bound
