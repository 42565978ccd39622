"""Streamlit entry point: `streamlit run dashboard/app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit runs this file as a script, not as a package module
    sys.path.insert(0, str(ROOT))

from dashboard import filters, layout  # noqa: E402

st.set_page_config(page_title="O2R programme dashboard", page_icon=":material/monitoring:", layout="wide")

PAGES = [
    st.Page(ROOT / "pages" / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(ROOT / "pages" / "referral_sources.py", title="Referral sources", icon=":material/call_received:",
            url_path="referral-sources"),
    st.Page(ROOT / "pages" / "offending_areas.py", title="Offending areas", icon=":material/location_on:",
            url_path="offending-areas"),
    st.Page(ROOT / "pages" / "officer_caseloads.py", title="Officer caseloads", icon=":material/badge:",
            url_path="officer-caseloads"),
    st.Page(ROOT / "pages" / "journey_flow.py", title="Journey flow", icon=":material/account_tree:",
            url_path="journey-flow"),
    st.Page(ROOT / "pages" / "cost_savings.py", title="Cost savings", icon=":material/currency_pound:",
            url_path="cost-savings"),
    st.Page(ROOT / "pages" / "data.py", title="Data", icon=":material/upload_file:",
            url_path="data"),
    st.Page(ROOT / "pages" / "methodology.py", title="Methodology", icon=":material/menu_book:",
            url_path="methodology"),
]

page = st.navigation(PAGES)
st.session_state["filters"] = filters.sidebar()
layout.data_banner()
page.run()
