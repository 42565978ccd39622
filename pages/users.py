"""Users (administrators only): add accounts, revoke and re-activate them, link an officer's
account to the tracker's names for them, and reset a password; every change is logged."""

import secrets

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.security import data_access, officer_links
from dashboard.security.access import ROLES
from dashboard.ui import text

viewer = data_access.current_viewer()
st.title("Users")
if viewer.is_demo:
    st.info(service.DEMO_ACCOUNTS)
    st.stop()
st.caption("Roles and officer names are re-read on every click, so a change here (a revoked "
           "account included) takes effect at once. Each change is recorded in the access log. "
           "The same can be done on the server with the command python -m dashboard users.")

if "users_done" in st.session_state:
    message, password = st.session_state.pop("users_done")
    st.success(message)
    if password:
        st.info(f"Temporary password, shown once: `{password}`. Give it to them by a separate "
                "channel; they should change it after signing in.")


def done(message: str, password: str | None = None) -> None:
    st.session_state["users_done"] = (message, password)
    st.rerun()


def officer_list(text: str) -> list[str]:
    # One a line, not comma-separated: a tracker may write an officer "Smith, J". Only line
    # ends split (splitlines also splits at a vertical tab, a separator character and the
    # like, which the account's check refuses instead).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [name.strip() for name in lines if name.strip()]


users = service.list_users(viewer)
if users:
    st.dataframe(pd.DataFrame([{"Name": u.name, "Role": u.role, "Email": u.email or "",
                                "Officer names": "; ".join(u.officer_names),
                                "Status": "active" if u.active else "revoked"} for u in users]),
                 hide_index=True, width="stretch")
else:
    st.info("No accounts yet: add the first below.")
for name in officer_links.unallocated_links(users):
    st.warning(f"{text.plain(name)} is linked to 'Unallocated', the tracker's blank officer, "
               "which no account may be: the link is not used. Unlink it below.",
               icon=":material/warning:")
for officer, names in officer_links.shared_officer_names(users).items():
    st.warning(f"The officer name '{text.plain(officer)}' is linked to {len(names)} active "
               f"accounts ({text.plain(', '.join(names))}), so each sees the others' "
               "caseload: unlink it from all but one below.", icon=":material/warning:")

st.header("Add a user")
with st.form("add_user", clear_on_submit=True):
    name = st.text_input("Name", key="add_name")
    role = st.selectbox("Role", ROLES, key="add_role")
    email = st.text_input("Email (for single sign-on; optional)", key="add_email")
    officers = st.text_area("Officer names on the tracker, one a line (officers only)",
                            key="add_officers", height=100)
    with_password = st.checkbox("Give them a temporary password (otherwise single sign-on "
                                "only)", value=True, key="add_with_password")
    if st.form_submit_button("Add the user"):
        password = secrets.token_urlsafe(12) if with_password else None
        try:
            service.add_user(viewer, name, role, password=password,
                             officer_names=officer_list(officers), email=email or None)
        except ValueError as exc:
            st.error(f"Not added: {text.plain(exc)}.")
        else:
            done(f"Added {text.plain(name.strip())} ({role}).", password)

if users:
    st.header("Change a user")
    chosen = st.selectbox("User", [u.name for u in users], key="change_user")
    user = next(u for u in users if u.name == chosen)
    st.markdown(f"{'Active' if user.active else 'Revoked'}, role {user.role}"
                + (", officer names: " + text.plain(officer_links.listed(user.officer_names))
                   if user.officer_names else "") + ".")
    left, right = st.columns(2)
    if user.active:
        if left.button("Revoke access", key="revoke_user", disabled=user.name == viewer.name,
                       help="Your own account cannot be revoked from here"):
            service.revoke_user(viewer, user.name)
            done(f"Revoked {text.plain(user.name)}: they can no longer sign in.")
    elif left.button("Re-activate", key="reactivate_user"):
        try:
            service.reactivate_user(viewer, user.name)
        except ValueError as exc:  # their officer names are now linked to someone else
            st.error(f"Not re-activated: {text.plain(exc)}.")
        else:
            done(f"Re-activated {text.plain(user.name)}.")
    if right.button("Reset the password", key="reset_password"):
        password = secrets.token_urlsafe(12)
        service.set_password(viewer, user.name, password)
        done(f"Reset {text.plain(user.name)}'s password.", password)
    if user.role == "officer":
        with st.form("link_officer"):
            names = st.text_area("Officer names on the tracker, one a line",
                                 value="\n".join(user.officer_names), key="link_names",
                                 height=100)
            if st.form_submit_button("Save the officer names"):
                try:
                    saved = service.set_officer_names(viewer, user.name, officer_list(names))
                except ValueError as exc:
                    st.error(f"Not saved: {text.plain(exc)}.")
                else:
                    done(f"{text.plain(user.name)} now sees the referrals of: "
                         + text.plain(officer_links.listed(saved.officer_names)) + ".")
