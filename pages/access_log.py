"""Access log (administrators only): who signed in, uploaded, exported or viewed people."""

import datetime as dt

import streamlit as st

from dashboard import layout, security

st.title("Access log")
st.caption("Every sign-in (and failure), upload, export and view of person-level rows, as "
           "the Data Protection Act 2018 (s.62) requires. The log can only be added to.")
left, middle, right = st.columns(3)
who = left.text_input("Who (exact name)", key="log_who") or None
action = middle.selectbox("Action", ["All", "sign-in", "sign-out", "view", "export", "upload",
                                     "sign-off", "snapshot-withdraw", "user-add",
                                     "user-set-password", "user-revoke", "user-list"],
                          key="log_action")
since = right.date_input("Since", value=dt.date.today() - dt.timedelta(days=30),
                         format="DD/MM/YYYY", key="log_since")
log = security.read_log(security.security_db_path(), who=who,
                        action=None if action == "All" else action,
                        since=dt.datetime.combine(since, dt.time()))
st.dataframe(log, hide_index=True, width="stretch")
layout.csv_download(log, "access_log")
