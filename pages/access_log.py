"""Access log (administrators only): who signed in, uploaded, exported or viewed people, and
whether the log's hash chain shows any entry changed, removed or slipped in."""

import datetime as dt

import streamlit as st

from dashboard import service
from dashboard.security import audit, data_access, sign_in
from dashboard.security.security_file import security_db_path
from dashboard.ui import layout


def show_chain_check(path) -> None:
    """Whether the log is intact, and its last entry to note."""
    check = audit.verify_log(path)
    if check.intact:
        st.success(f"The log is intact: all {check.entries:,} entries are unchanged and none is "
                   "missing, each chained to the one before it.", icon=":material/verified:")
    else:
        st.error(f"The log has been tampered with: {check.break_count:,} "
                 f"{'break' if check.break_count == 1 else 'breaks'} in its hash chain. Keep a "
                 "copy of the file as it is and tell your information security team.",
                 icon=":material/gpp_bad:")
        st.dataframe({"Where the chain breaks": list(check.breaks)}, hide_index=True,
                     width="stretch")
        if check.break_count > len(check.breaks):
            st.caption(f"The first {len(check.breaks)} are listed.")
    if check.restored:
        st.warning("A trigger that stops the log being changed was found removed and put back "
                   f"({'entry' if len(check.restored) == 1 else 'entries'} "
                   f"{', '.join(map(str, check.restored))}): someone altered the log file "
                   "outside the dashboard.", icon=":material/warning:")
    if check.last_id is not None:
        st.caption(f"Last entry {check.last_id}, hash {check.last_hash}. Note it from time to "
                   "time: entries removed from the end of the log, with SQLite's record of the "
                   "highest id edited too, can only be seen against a noted last entry.")


st.title("Access log")
st.caption("Every sign-in (and failure), upload, export and view of person-level rows, as "
           "the Data Protection Act 2018 (s.62) requires. The log can only be added to, and "
           "each entry carries the hash of the one before it, so a change is seen below.")
path = security_db_path()
demo = data_access.current_viewer().is_demo
if demo:
    # Anyone who reaches the sign-in page: the real log's size and last entry are not theirs.
    st.info("The log's own check (how many entries, their hash chain) is shown to the real "
            "administrators only.")
else:
    show_chain_check(path)

left, middle, right = st.columns(3)
who = left.text_input("Who (exact name)", key="log_who") or None
action = middle.selectbox("Action", ["All", *audit.ACTIONS], key="log_action",
                          help="What each action means is listed under the log.")
since = right.date_input("Since", value=dt.date.today() - dt.timedelta(days=30),
                         format="DD/MM/YYYY", key="log_since")
log = audit.read_log(path, who=who, action=None if action == "All" else action,
                        since=dt.datetime.combine(since, dt.time()))
if demo:
    # A demo account is whoever reached the sign-in page: not the real staff's names, emails
    # and sign-ins, which the log holds from before real data arrives.
    # Nor the entries' numbers: the highest is the real log's size, the gaps its activity.
    log = log[log["who"].isin({*(v.name for v in sign_in.DEMO_VIEWERS.values()),
                               service.DEMO_UPLOADER})].drop(columns="id")
    st.caption("A demo account sees only the entries of the demo accounts and the demo data.")
st.dataframe(log.assign(filters=log["filters"].map(audit.filters_in_words)), hide_index=True,
             width="stretch", column_config={
    "id": st.column_config.NumberColumn("Entry", format="%d"),
    "at": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm:ss"),
    "who": "Who", "role": "Role", "action": "Action", "target": "What",
    "filters": "Filters", "outcome": "Outcome", "detail": "Detail"})
layout.csv_download(log, "access_log")
with st.expander("What each action means"):
    st.dataframe({"Action": [a.value for a in audit.Action],
                  "Means": [a.meaning for a in audit.Action],
                  "The entry holds": [a.details for a in audit.Action]},
                 hide_index=True, width="stretch")
