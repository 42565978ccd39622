"""Users (administrators only): accounts, roles and the officer names each officer sees."""

import pandas as pd
import streamlit as st

from dashboard import security

st.title("Users")
st.caption("Accounts are managed with `python -m dashboard users add|revoke|set-password` on "
           "the server (see the README). Roles and officer names are re-read on every click, "
           "so a revoked account stops working at once.")
users = security.list_users(security.security_db_path())
st.dataframe(pd.DataFrame([{"Name": u.name, "Role": u.role, "Email": u.email or "",
                            "Officer names": ", ".join(u.officer_names),
                            "Active": u.active} for u in users]),
             hide_index=True, width="stretch")
