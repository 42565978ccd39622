"""The app's way to read data: one read-only connection per data version, queries cached on it."""

from __future__ import annotations

import streamlit as st

from dashboard import config, queries, service, store


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, version: tuple[int, int, int]):
    # Keyed on the file version: an upload lands as a new file, so the next rerun opens it.
    return store.connect_read_only(config.db_path(path))


def current_version() -> tuple[int, int, int]:
    """The version of the database file now, building the demo database if there is none."""
    db = config.db_path()
    service.ensure_database(db)
    return store.data_version(db)


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def _cached_query(path: str, version: tuple[int, int, int], name: str, params: tuple):
    cursor = store.read_cursor(_connection(path, version))  # one per thread's run
    try:
        return queries.run(cursor, name, **dict(params))
    finally:
        cursor.close()


def run(name: str, **params: object):
    """The named query's result on the current data (re-read whenever an upload lands)."""
    version = current_version()
    return _cached_query(str(config.db_path()), version, name, tuple(sorted(params.items())))
