"""Streamlit entry point: `streamlit run dashboard/app.py`."""

from __future__ import annotations

import sqlite3
import sys
from functools import partial
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit runs this file as a script, not as a package module
    sys.path.insert(0, str(ROOT))

from dashboard.security import (  # noqa: E402
    access,
    data_access,
    sign_in,
)
from dashboard.security.audit import AccessLogError  # noqa: E402
from dashboard.ui import filters, layout  # noqa: E402
from dashboard.ui.navigation import PAGES  # noqa: E402

st.set_page_config(page_title="O2R programme dashboard", page_icon=":material/monitoring:",
                   layout="wide")

try:
    viewer = sign_in.current_viewer(demo_allowed=data_access.demo_only())
except (AccessLogError, sqlite3.Error):  # the security file cannot be read: nobody is let in
    st.session_state.pop("viewer", None)
    st.error("The dashboard cannot read its users and access log file, so nobody can be signed "
             "in. Please tell an administrator.")
    st.stop()
if viewer is None:
    st.session_state.pop("viewer", None)
    # Every page's address also opens the sign-in form, so a link someone was sent (to
    # /referral-sources, say) is not met by "Page not found", and signing in keeps the address:
    # the rerun lands on that page if the role may open it.
    sign_in_page = ROOT / "pages" / "sign_in.py"
    st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:"),
                   *(st.Page(sign_in_page, title="Sign in", url_path=url_path,
                             visibility="hidden") for *_, url_path in PAGES)],
                  position="hidden").run()
    # Someone is signing in: the pack's quarters are protected while they do (once per
    # version of the data, whoever opens the form, so opening it again adds nothing).
    data_access.protect_pack_ahead()
    st.stop()
st.session_state["viewer"] = viewer

# Built for this viewer's role, read again on every rerun: a page their role may not see does
# not exist for them.
capability = access.capability(viewer)
shown = [page for page in PAGES if page[0] in capability.pages]
if viewer.role == "officer":  # an officer opens on their own work, not the programme's
    shown.sort(key=lambda page: page[0] != "my_work")
# Steering and admins see every officer's outstanding work, not their own.
titles = {"my_work": "My work" if viewer.role == "officer" else "Caseload health"}
# The page objects are kept for the session while its role's list is unchanged: making them
# (a path resolved and checked per page) was a millisecond of every rerun. Never shared
# between sessions: st.navigation marks on them which page this run may call.
listed = (viewer.role, tuple(shown))
if st.session_state.get("navigation_pages", (None,))[0] != listed:
    st.session_state["navigation_pages"] = (listed, [
        st.Page(ROOT / "pages" / f"{stem}.py", title=titles.get(stem, title),
                icon=f":material/{icon}:", url_path=url_path, default=index == 0)
        for index, (stem, title, icon, url_path) in enumerate(shown)], [
        # A link to a page this role may not open (a colleague's, say) says so rather than
        # "Page not found"; the page's own script is never registered, so never run.
        st.Page(partial(layout.page_not_open, title, viewer.role),
                title=title, url_path=url_path, visibility="hidden")
        for stem, title, _, url_path in PAGES if stem not in capability.pages])
page = st.navigation([*st.session_state["navigation_pages"][1],
                      *st.session_state["navigation_pages"][2]],
                     expanded=True)  # every page listed: no "View more" hiding admin pages
with st.sidebar:
    st.text(f"Signed in as {viewer.name} ({viewer.role})")
    if st.button("Sign out", key="sign_out"):
        sign_in.sign_out()
        st.rerun()
# The page about to run, by its file stem (None for a page not open to the role):
# st.navigation hands back one of the pages given.
stem = next((stem for (stem, *_), listed_page in zip(shown, st.session_state[
    "navigation_pages"][1], strict=True) if listed_page is page), None)
st.session_state["filters"] = filters.sidebar() \
    if capability.filters and stem in access.FILTERED_PAGES else None
if stem is not None:
    layout.data_banner()
try:
    page.run()
except (AccessLogError, sqlite3.Error):  # the security file: the access log or the users table
    st.error("This could not be recorded in the access log, so it may not have been done: "
             "please tell an administrator.")
# After the page is drawn, so that its own run does not share the processor with the pack.
data_access.protect_pack_ahead()
