"""Streamlit entry point: `streamlit run dashboard/app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit runs this file as a script, not as a package module
    sys.path.insert(0, str(ROOT))

from dashboard import auth, data_access, filters, layout  # noqa: E402

EVERYONE = {"officer", "steering", "scrutiny", "admin"}
PEOPLE = {"officer", "steering", "admin"}
ADMIN = {"admin"}

# file, title, icon, url path, roles that see it
PAGES = [
    ("overview.py", "Overview", "dashboard", "", EVERYONE),
    ("referral_sources.py", "Referral sources", "call_received", "referral-sources", EVERYONE),
    ("offending_areas.py", "Offending areas", "location_on", "offending-areas", EVERYONE),
    ("officer_caseloads.py", "Officer caseloads", "badge", "officer-caseloads", EVERYONE),
    ("journey_flow.py", "Journey flow", "account_tree", "journey-flow", EVERYONE),
    ("cost_savings.py", "Cost savings", "currency_pound", "cost-savings", EVERYONE),
    ("referral_list.py", "Referrals", "list_alt", "referrals", PEOPLE),
    ("quarterly_pack.py", "Quarterly pack", "summarize", "quarterly-pack",
     {"steering", "scrutiny", "admin"}),
    ("data.py", "Data", "upload_file", "data", ADMIN),
    ("access_log.py", "Access log", "policy", "access-log", ADMIN),
    ("users.py", "Users", "group", "users", ADMIN),
    ("methodology.py", "Methodology", "menu_book", "methodology", EVERYONE),
]

st.set_page_config(page_title="O2R programme dashboard", page_icon=":material/monitoring:",
                   layout="wide")

viewer = auth.current_viewer(demo_allowed=data_access.demo_only())
if viewer is None:
    st.session_state.pop("viewer", None)
    st.navigation([st.Page(ROOT / "pages" / "sign_in.py", title="Sign in",
                           icon=":material/login:")], position="hidden").run()
    st.stop()
st.session_state["viewer"] = viewer

# Built for this viewer on every rerun: a page their role may not see does not exist for them.
page = st.navigation([
    st.Page(ROOT / "pages" / file, title=title, icon=f":material/{icon}:",
            url_path=url_path or None, default=not url_path)
    for file, title, icon, url_path, roles in PAGES if viewer.role in roles])
with st.sidebar:
    st.text(f"Signed in as {viewer.name} ({viewer.role})")
    if st.button("Sign out", key="sign_out"):
        auth.sign_out()
        st.rerun()
st.session_state["filters"] = filters.sidebar()
layout.data_banner()
page.run()
