"""Streamlit entry point: `streamlit run dashboard/app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit runs this file as a script, not as a package module
    sys.path.insert(0, str(ROOT))

st.set_page_config(page_title="O2R programme dashboard", page_icon="📊", layout="wide")

PAGES = [
    st.Page(ROOT / "pages" / "overview.py", title="Overview", icon="🏠", default=True),
]

st.navigation(PAGES).run()
