"""Sign in: single sign-on, a local account, or (on demo data only) a demo account."""

import streamlit as st

from dashboard.security import data_access, sign_in

st.title("Offender to Rehab dashboard")
message = st.session_state.pop("sign_in_message", None)
if message:
    st.info(message)

if sign_in.single_sign_on_configured():
    st.header("Sign in with your force account")
    if st.session_state.get(sign_in.SSO_REFUSED):
        if st.button("Sign out of the force account and try another", key="sso_sign_out"):
            st.session_state.pop(sign_in.SSO_REFUSED, None)
            st.logout()
    elif st.button("Sign in again" if st.session_state.get(sign_in.SSO_AGAIN) else "Sign in",
                   type="primary", key="sso_sign_in"):
        st.session_state.pop(sign_in.SSO_AGAIN, None)
        st.login()
    st.divider()

st.header("Sign in with a dashboard account")
with st.form("local_sign_in"):
    name = st.text_input("Name", key="sign_in_name")
    password = st.text_input("Password", type="password", key="sign_in_password")
    submitted = st.form_submit_button("Sign in")
if submitted:
    problem = sign_in.sign_in_local(name.strip(), password)
    if problem:
        st.error(problem)
    else:
        st.rerun()

if data_access.demo_only():
    st.divider()
    st.header("Or try it with a demo account")
    st.warning("This dashboard holds only SYNTHETIC demo data, made to match the 2022 "
               "evaluation's published figures. No real person's data is shown.",
               icon=":material/warning:")
    columns = st.columns(len(sign_in.DEMO_VIEWERS))
    for column, (role, viewer) in zip(columns, sign_in.DEMO_VIEWERS.items(), strict=True):
        if column.button(viewer.name, key=f"demo_{role}", width="stretch"):
            problem = sign_in.sign_in_demo(role)
            if problem:
                st.error(problem)
            else:
                st.rerun()
