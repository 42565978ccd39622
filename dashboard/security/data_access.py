"""The app's way to read data: through the access rules, cached per data version and per what
the viewer may see (role and officer scope, never who they are), with every view of
person-level rows logged for that viewer before the cache is asked."""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from dashboard import config, service
from dashboard.security import access, audit
from dashboard.security.access import Viewer
from dashboard.security.audit import AccessLogError, Action
from dashboard.store import database, queries

# Checks made before anyone signs in (is this demo data?) run with the narrowest role.
SYSTEM = Viewer("system", "scrutiny")


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, version: tuple[int, int, int]):
    # Keyed on the file version: an upload lands as a new file, so the next rerun opens it.
    return database.connect_read_only(config.db_path(path))


def current_version() -> tuple[int, int, int]:
    """The version of the database file now, building the demo database if there is none."""
    db = config.db_path()
    service.ensure_database(db)
    return database.data_version(db)


def key_digest(*parts: object) -> str:
    """An exact stand-in for a cache key: the SHA-256 of its pickle. Streamlit hashing a
    viewer's capability or a chart's frame itself cost 0.3-2 ms a call on every rerun of every
    session; this costs tens of microseconds. Unequal keys pickle to unequal bytes (unpickling
    gives each back), so they never share an entry; equal keys almost always pickle alike."""
    digest = hashlib.sha256()
    # Pickled straight into the hash: a frame's pickle is never held whole in memory.
    pickle.Pickler(_Feed(digest.update), protocol=5).dump(parts)
    return digest.hexdigest()


@functools.lru_cache(maxsize=256)
def scope_digest(cache_key: tuple) -> str:
    """key_digest of a viewer's cache key (access.Viewer.cache_key), worked out once: pickling
    the role's capability again on every lookup was most of what a key cost."""
    return key_digest(cache_key)


class _Feed:
    """A file-like object that hands each write to a function (a hash's update)."""

    def __init__(self, write: Callable[[bytes], object]):
        self.write = write


# Keyed on what the viewer may see (access.Viewer.cache_key), so twenty steering members asking
# the same question cost one query, while officers with different names never share a result.
# Only `key` is hashed by Streamlit (key_digest of the file, its version, the viewer's scope,
# the query and its parameters), and every argument is passed by name: Streamlit otherwise
# inspects the function's signature once per positional argument and hashes each argument
# its own way, most of what a lookup cost on every rerun of every session.
@st.cache_data(max_entries=512, ttl=3600, show_spinner=False)
def _cached_query(key: str, _path: str, _version: tuple[int, int, int], _name: str,
                  _params: tuple, _viewer: Viewer):
    path, version, name, params = _path, _version, _name, _params
    cursor = database.read_cursor(_connection(path, version))  # one per thread's run
    try:
        result = queries.run(cursor, _viewer, name, **dict(params),
                             latest_snapshot=_latest_snapshot(path, version))
    finally:
        cursor.close()
    _worked_out.here = True
    return result


# The latest snapshot in force, once per version of the file (a version's file never changes:
# an upload or a withdrawal lands as a new one): looking it up was a query of its own for
# every query that reads the latest snapshot, two thirds of a page's queries.
@st.cache_resource(max_entries=2, show_spinner=False)
def _latest_snapshot(path: str, version: tuple[int, int, int]) -> int | None:
    cursor = database.read_cursor(_connection(path, version))
    try:
        return queries.latest_snapshot_id(cursor)
    finally:
        cursor.close()


# Set on this thread when a cached function above or below really ran (a miss).
_worked_out = threading.local()


def as_cached(lookup: Callable[[], object]):
    """lookup(), a call of a cached function, as the cache hands it back on every later call
    (a copy through pickle) even on the call that worked it out. A frame fresh from DuckDB or
    pandas pickles to other bytes than its copies do, so the run that computed it asked
    `derived` and `layout.chart` under keys no later run asks under, and the next two warm
    reruns of a page worked everything out again. On a miss the cache is asked once more."""
    _worked_out.here = False
    value = lookup()
    return lookup() if _worked_out.here else value


def current_viewer() -> Viewer:
    viewer = st.session_state.get("viewer")
    if viewer is None:
        st.error("Please sign in.")
        st.stop()
    return viewer


@dataclass(frozen=True)
class Query:
    """A query and its parameters, not yet read. Passed to `derived`, it is keyed by what it
    asks, not by its rows, and read only when the derived work is worked out: pickling a
    100,000-row frame to key the work, and unpickling a cached copy the page never shows, were
    a third of a warm rerun of My work at national scale."""
    name: str
    params: tuple  # (parameter, value) pairs, sorted by parameter


def query(name: str, filters=None, **overrides: object) -> Query:
    """The named query with every sidebar filter it takes (and any overrides), as `filtered`
    would read it, for `derived` to read when it needs the rows."""
    params = {**(filters.for_query(name) if filters is not None else {}), **overrides}
    return Query(name, tuple(sorted(params.items())))


def run(name: str, viewer: Viewer | None = None, **params: object):
    """The named query's result on the current data, as the signed-in viewer may see it."""
    viewer = viewer or current_viewer()
    if access.is_logged(viewer, queries.access_level(name)):
        log_view(viewer, name, params)
    path, version = str(config.db_path()), current_version()
    return as_cached(functools.partial(_lookup, Query(name, tuple(sorted(params.items()))),
                                       viewer, path, version))


def _lookup(read: Query, viewer: Viewer, path: str, version: tuple[int, int, int]):
    """The cached result of the query for viewers with these rights, with no access log entry:
    the caller has logged the view already."""
    key = key_digest(path, version, scope_digest(viewer.cache_key()), read.name, read.params)
    return _cached_query(key=key, _path=path, _version=version, _name=read.name,
                         _params=read.params, _viewer=viewer.as_scope())


def filtered(name: str, filters, **overrides: object):
    """The named query with every sidebar filter it takes applied (and any overrides)."""
    return run(name, **dict(query(name, filters, **overrides).params))


# Pure work on frames already read (rates with exact intervals, survival curves, a table per
# officer) was most of what some pages still cost on a warm rerun, in every session.
@st.cache_data(max_entries=512, ttl=3600, show_spinner=False)
def _derived(key: str, _compute: Callable, _args: tuple, _options: dict, _viewer: Viewer,
             _data: tuple[str, tuple[int, int, int]]):
    # Only `key` is hashed: key_digest of everything below and the viewer's cache key.
    args = tuple(_lookup(arg, _viewer, *_data) if isinstance(arg, Query) else arg
                 for arg in _args)
    result = _compute(*args, **_options)
    _worked_out.here = True
    return result


def derived(compute: Callable, *args: object, keyed_on: tuple = (), **options: object):
    """compute(*args, **options), a pure function of frames already read, worked out once
    per inputs for viewers with the same rights (a copy each call, like a query's result).
    An argument may be a `Query` instead of its frame: its view is logged here as `run` would
    log it, and its rows are read only if the work is not cached already.
    `keyed_on` names anything else it reads (a setting), so a change there recomputes it.
    compute is known by its module and name: a module-level function, never a closure whose
    captured values would change what it returns."""
    viewer = current_viewer()
    reads = [arg for arg in args if isinstance(arg, Query)]
    for read in reads:
        if access.is_logged(viewer, queries.access_level(read.name)):
            log_view(viewer, read.name, dict(read.params))
    # A query's rows change with the data: the work is keyed on the version it read.
    data = (str(config.db_path()), current_version()) if reads else ()
    key = key_digest(scope_digest(viewer.cache_key()), compute.__module__,
                     compute.__qualname__, args, sorted(options.items()), keyed_on, data)
    return as_cached(functools.partial(_derived, key=key, _compute=compute, _args=args,
                                       _options=options, _viewer=viewer.as_scope(),
                                       _data=data))


# What every page shows around its figures (the data banner, the filters' choices, whether the
# data is the demo) was read and reworked from several cached results on every rerun of every
# session; worked out once per data version and per what the viewer may see, it is one lookup.
@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def _per_data(key: str, _compute: Callable, _viewer: Viewer):
    # Only `key` is hashed: the file, its version, the viewer's scope and the function.
    return _compute(_viewer, _unlogged_reader(_viewer))


def per_data(compute: Callable, viewer: Viewer | None = None, keyed_on: tuple = ()):
    """compute(viewer, read): worked out once per data version for viewers with the same
    rights (a copy each call). `read(name, **params)` reads a query as they may see it; it
    refuses the queries whose every view goes to the access log (those are read with `run`,
    by the viewer who sees them). `keyed_on` names anything else compute reads. compute is
    known by its module and name, as in `derived`."""
    viewer = viewer or current_viewer()
    path, version = str(config.db_path()), current_version()
    key = key_digest(path, version, scope_digest(viewer.cache_key()), compute.__module__,
                     compute.__qualname__, keyed_on)
    return _per_data(key=key, _compute=compute, _viewer=viewer.as_scope())


def _unlogged_reader(viewer: Viewer) -> Callable:
    def read(name: str, **params: object):
        if access.is_logged(viewer, queries.access_level(name)):
            raise ValueError(f"queries/{name}.sql is logged for each viewer who sees it: "
                             "read it with data_access.run, not inside per_data")
        return run(name, viewer=viewer, **params)
    return read


def log_view(viewer: Viewer, name: str, params: dict) -> None:
    """Records a view of person-level rows; if it cannot be recorded, it is not shown."""
    try:
        audit.record(viewer, Action.VIEW, target=name,
                     filters={k: str(v) for k, v in params.items() if v is not None})
    except AccessLogError:
        st.error("This view could not be recorded in the access log, so it is not shown. "
                 "Please tell an administrator.")
        st.stop()


def demo_only() -> bool:
    """True while the database holds only the synthetic demo data."""
    return per_data(_demo_only, viewer=SYSTEM)


def _demo_only(viewer: Viewer, read: Callable) -> bool:
    return bool(read("demo_only")["demo_only"].iloc[0])


# Each quarter's counts and protected figures for one version of the data, whichever pack
# asked first: a pack protects its quarter after every quarter before it, so without this the
# panel moving to another quarter paid again for the programme's whole history.
@st.cache_resource(max_entries=2, show_spinner=False)
def _pack_memo(path: str, version: tuple[int, int, int]):
    from dashboard import pack

    return pack.QuarterMemo(_kept_chains(path))


# What the packs of one version protected, for the next version's memo: after an upload, the
# first pack protects again only the quarters from the first whose data changed.
@st.cache_resource(max_entries=2, show_spinner=False)
def _kept_chains(path: str):
    from dashboard import pack

    return pack.KeptChains()


# A version's first circulated pack protects every quarter from the first: about 10 CPU-s at
# O2R's size with a tracker snapshot each quarter. It is started in the background by the
# first page anyone opens on a new version (as a rule the upload's own), so the first viewer
# of the pack finds its quarters protected; a pack asked for meanwhile waits on the memo's
# lock and takes what it did. Once per version and server process.
@st.cache_resource(max_entries=2, show_spinner=False)
def _pack_ahead(path: str, version: tuple[int, int, int]) -> threading.Thread:
    # The connection and memo are fetched here, in the script's thread: Streamlit's caches
    # are the script's to call.
    thread = threading.Thread(target=_protect_ahead, name="o2r-pack-ahead", daemon=True,
                              args=(_connection(path, version), _pack_memo(path, version)))
    thread.start()
    return thread


def _protect_ahead(connection, memo) -> None:
    from dashboard import pack

    try:
        cursor = database.read_cursor(connection)  # one cursor a thread
        try:
            pack.protect_ahead(cursor, memo)
        finally:
            cursor.close()
    except Exception:  # the page builds the pack itself when asked, and says why not
        logging.getLogger(__name__).exception("The pack could not be built ahead")


def protect_pack_ahead() -> None:
    """Starts protecting the data's quarters for the pack in the background, once per version
    of the data (O2R_PACK_AHEAD)."""
    if config.setting("O2R_PACK_AHEAD"):
        _pack_ahead(str(config.db_path()), current_version())


# The pack reads programme-wide counts whoever asks; the role decides only which disclosures
# it may have, so it is shared by role.
@st.cache_data(max_entries=32, ttl=3600, show_spinner="Building the pack…")
def _pack(path: str, version: tuple[int, int, int], scope: tuple, quarter: str, scheme: str,
          disclosure: str, _viewer: Viewer):
    from dashboard import pack  # the pack pulls in the chart renderer: load it when asked

    # On the connection the page's queries share (a cursor for this run): opening another for
    # the pack cost as much as a few of its queries.
    cursor = database.read_cursor(_connection(path, version))
    try:
        return pack.issue_on(cursor, _viewer, quarter, scheme, disclosure,
                             memo=_pack_memo(path, version))
    finally:
        cursor.close()


def quarterly_pack(quarter: str, scheme: str, disclosure: str):
    """The signed-off pack for the quarter (with how current data differs), else a fresh one."""
    viewer = current_viewer()
    return _pack(str(config.db_path()), current_version(), viewer.cache_key(), quarter, scheme,
                 disclosure, viewer.as_scope())


# One rendering per issued pack and file kind, whoever asks and however often the page reruns.
@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _pack_file(path: str, version: tuple[int, int, int], scope: tuple, quarter: str,
               scheme: str, disclosure: str, kind: str, _viewer: Viewer) -> bytes:
    from dashboard.pack import export as pack_export

    issued = _pack(path, version, scope, quarter, scheme, disclosure, _viewer)
    return pack_export.pdf_bytes(issued) if kind == "pdf" else pack_export.xlsx_bytes(issued)


def quarterly_pack_file(kind: str, quarter: str, scheme: str, disclosure: str
                        ) -> Callable[[], bytes]:
    """The pack's PDF or workbook, rendered only when called (a download button's click),
    for the data version on screen now."""
    viewer = current_viewer()
    path, version = str(config.db_path()), current_version()
    return lambda: _pack_file(path, version, viewer.cache_key(), quarter, scheme, disclosure,
                              kind, viewer.as_scope())


# The trend chart as Vega-Lite, once per issued pack: building it again on every rerun was most
# of the pack page's warm cost. It is trend_chart's spec written out directly (trend_spec):
# Altair building and validating it was a quarter of the page's cold cost beyond its queries.
@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _pack_trend(path: str, version: tuple[int, int, int], scope: tuple, quarter: str,
                scheme: str, disclosure: str, _viewer: Viewer) -> dict | None:
    from dashboard.pack import export as pack_export

    return pack_export.trend_spec(_pack(path, version, scope, quarter, scheme, disclosure,
                                        _viewer))


def quarterly_pack_trend(quarter: str, scheme: str, disclosure: str) -> dict | None:
    """The pack's trend chart as a Vega-Lite spec (for st.vega_lite_chart), or None."""
    viewer = current_viewer()
    return _pack_trend(str(config.db_path()), current_version(), viewer.cache_key(), quarter,
                       scheme, disclosure, viewer.as_scope())
