"""Referrals: one row per referral with its dates and stage (person-level; every view logged)."""

import streamlit as st

from dashboard.security import data_access
from dashboard.ui import filters, layout, text

chosen = filters.current()
viewer = data_access.current_viewer()
st.title("My referrals" if viewer.role == "officer" else "Referral list")
st.caption("One row per referral in the latest snapshot, to reconcile with your own records "
           f"({text.plain(chosen.describe())}). Each view of this list is recorded in the "
           "access log.")
referrals = layout.stop_if_empty(data_access.filtered("referral_list", chosen))


def heading(column: str) -> str:
    return "Nominal ID" if column == "nominal_id" else column.replace("_", " ").capitalize()


shown = layout.in_blocks(referrals, "referral_list_rows", "newest referral first")

# About sixteen rows at a time, not Streamlit's ten: the list is for reading down.
layout.person_table(shown, hide_index=True, width="stretch", height=600, column_config={
    column: st.column_config.DateColumn(heading(column), format="DD/MM/YYYY")
    if column.endswith("_date") else heading(column) for column in referrals.columns})
layout.csv_download(referrals, "referral_list")
